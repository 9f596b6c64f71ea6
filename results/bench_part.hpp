#pragma once
// A part of a bench run on several processes or machines (`autoscale bench --chunk I/K`, each rank under
// mpirun): the runs of one chunk under /runs/<run index> (the layout of /runs/<name> in a single-run file)
// and root string attributes saying which bench, seeds and chunk it holds (results/SCHEMA.md, "Bench parts").
// The part is written by write_bench_file (no tables); this reads its attributes back.
#include <map>
#include <string>
#include <vector>

namespace autoscale {

// The root string attributes `keys` of a part file. InputError naming the file (and the attribute) when it
// cannot be read, is not HDF5 or lacks one of them.
std::map<std::string, std::string> read_part_attributes(const std::string& path,
                                                        const std::vector<std::string>& keys);

}  // namespace autoscale
