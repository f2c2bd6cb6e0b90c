#include "flows/elementwise/circle.hpp"

#include <torch/torch.h>

namespace latflow::elementwise {

at::Tensor wrap_angle(const at::Tensor& x) {
  // fmod is exact; a negative remainder r gets 2 pi added, which rounds to 2 pi itself when |r| is below half
  // an ulp of 2 pi: that case is 0 on the circle.
  const at::Tensor r = torch::fmod(x, two_pi);
  const at::Tensor up = torch::where(r < 0, r + two_pi, r);
  return torch::where(up >= two_pi, up - two_pi, up);
}

}  // namespace latflow::elementwise
