#!/usr/bin/python3
"""Exit 0 when two HDF5 files hold the same data: the same groups and datasets, every dataset of the same type,
shape and values (NaN equal to NaN), every attribute of every object (the root's included) equal. Nothing is left
out but the datasets whose name contains "wall_time": the wall-clock microseconds each decision took on this
machine (results/SCHEMA.md), measured, not simulated. Prints the differences (at most 20) otherwise.
Usage: h5_same_data.py A.h5 B.h5"""
import sys

import h5py
import numpy as np


def same_value(x, y):
    x, y = np.asarray(x), np.asarray(y)
    if x.dtype != y.dtype or x.shape != y.shape:
        return False
    if x.dtype.kind == "f":
        return np.array_equal(x, y, equal_nan=True)
    if x.dtype.names:  # compound: field by field
        return all(same_value(x[n], y[n]) for n in x.dtype.names)
    return x.tolist() == y.tolist()


def objects(f):
    out = {"/": f}
    f.visititems(lambda name, obj: out.__setitem__(name, obj))
    return out


def main(a_path, b_path):
    a, b = h5py.File(a_path, "r"), h5py.File(b_path, "r")
    oa, ob = objects(a), objects(b)
    problems = []
    if sorted(oa) != sorted(ob):
        problems.append("objects only in %s: %s; only in %s: %s" % (
            a_path, sorted(set(oa) - set(ob))[:5], b_path, sorted(set(ob) - set(oa))[:5]))
    for name in sorted(set(oa) & set(ob)):
        x, y = oa[name], ob[name]
        if isinstance(x, h5py.Dataset) != isinstance(y, h5py.Dataset):
            problems.append("%s: a dataset in one file only" % name)
            continue
        if sorted(x.attrs) != sorted(y.attrs):
            problems.append("%s: attributes %s against %s" % (name, sorted(x.attrs), sorted(y.attrs)))
        for k in set(x.attrs) & set(y.attrs):
            if not same_value(x.attrs[k], y.attrs[k]):
                problems.append("%s: attribute %s differs" % (name, k))
        if isinstance(x, h5py.Dataset) and "wall_time" not in name and not same_value(x[()], y[()]):
            problems.append("dataset %s differs" % name)
    datasets = sum(isinstance(o, h5py.Dataset) for o in oa.values())
    if datasets == 0:
        problems.append("%s holds no dataset" % a_path)
    if problems:
        print("\n".join(problems[:20]))
        return 1
    print("same data: %d objects, %d datasets" % (len(oa), datasets))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
