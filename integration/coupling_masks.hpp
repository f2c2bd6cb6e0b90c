#pragma once
// Which coordinates of a point of [0, 1]^d each coupling cell transforms; the others pass through and
// condition it. The strategies of ZüNIS (Deutschmann & Götz, arXiv 2401.09069; masking.py of their code):
//
//   checkerboard   2 cells: the even coordinates, then the odd ones (two coordinates of equal parity are
//                  always transformed together, each conditioned only on the other parity);
//   maximal        d cells, cell k transforming coordinate k alone;
//   iflow          the binary masks of i-flow (Gao, Isaacson & Krause, arXiv 2001.05486): for each of the
//                  n = max(1, ceil(log2 d)) bits b of the coordinate index, the coordinates whose bit b is 0,
//                  then those whose bit b is 1 (2n cells: 2, 4, 6, 8 at d = 2, 4, 8, 16), so that every pair
//                  of coordinates is split by some cell.
//
// repeated `repetitions` times. A cell that would transform nothing (d = 1) is left out; a cell that
// transforms every coordinate (d = 1) has a constant conditioner.
#include <cstdint>
#include <string>
#include <vector>

namespace latflow {

/// The transformed coordinates of each cell, in order. Throws UserError for d < 1, repetitions < 1 or an unknown
/// strategy.
std::vector<std::vector<std::int64_t>> coupling_masks(std::int64_t d, const std::string& strategy,
                                                      std::int64_t repetitions);

/// "checkerboard", "maximal", "iflow".
std::vector<std::string> masking_strategies();

}  // namespace latflow
