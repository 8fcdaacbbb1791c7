// The CUDA selective scan's kernels: one thread per (batch item, channel), 64 channels of one
// item per thread block, the per-thread work of selective_scan_cuda_kernel.cuh. Compiled only
// where nvcc and a CUDA LibTorch are found (plugins/blocks/mamba/CMakeLists.txt); launched by
// selective_scan_cuda.cpp on LibTorch's current stream.
#include "selective_scan_cuda_kernel.cuh"

#include <cuda_runtime.h>

#include <stdexcept>
#include <string>

namespace looplab::blocks::cuda_scan {
namespace {

constexpr int kThreads = 64;  // channels per block: Di 256 x 64 items gives 256 blocks, all SMs busy

template <typename T, int kN>
__global__ void forward_kernel(Inputs<T> in, T* y) {
  const int64_t i = static_cast<int64_t>(blockIdx.y) * blockDim.x + threadIdx.x;
  if (i < in.channels) forward_channel<T, kN>(in, blockIdx.x, i, y);
}

template <typename T, int kN>
__global__ void backward_kernel(Inputs<T> in, Grads<T> g) {
  const int64_t i = static_cast<int64_t>(blockIdx.y) * blockDim.x + threadIdx.x;
  if (i < in.channels) backward_channel<T, kN>(in, g, blockIdx.x, i);
}

template <typename T>
dim3 grid_of(const Inputs<T>& in) {
  return dim3(static_cast<unsigned>(in.batch), static_cast<unsigned>((in.channels + kThreads - 1) / kThreads));
}

void check(cudaError_t e, const char* what) {
  if (e != cudaSuccess) throw std::runtime_error(std::string("mamba CUDA scan: ") + what + ": " + cudaGetErrorString(e));
}

template <typename T>
void launch_forward(const Inputs<T>& in, T* y, void* stream) {
  auto s = static_cast<cudaStream_t>(stream);
  if (in.states <= kSmallStates)
    forward_kernel<T, kSmallStates><<<grid_of(in), kThreads, 0, s>>>(in, y);
  else
    forward_kernel<T, kMaxStates><<<grid_of(in), kThreads, 0, s>>>(in, y);
  check(cudaGetLastError(), "forward launch");
}

template <typename T>
void launch_backward(const Inputs<T>& in, const Grads<T>& g, void* stream) {
  auto s = static_cast<cudaStream_t>(stream);
  if (in.states <= kSmallStates)
    backward_kernel<T, kSmallStates><<<grid_of(in), kThreads, 0, s>>>(in, g);
  else
    backward_kernel<T, kMaxStates><<<grid_of(in), kThreads, 0, s>>>(in, g);
  check(cudaGetLastError(), "backward launch");
}

}  // namespace

void forward(const Inputs<float>& in, float* y, void* stream) { launch_forward(in, y, stream); }
void forward(const Inputs<double>& in, double* y, void* stream) { launch_forward(in, y, stream); }
void backward(const Inputs<float>& in, const Grads<float>& g, void* stream) { launch_backward(in, g, stream); }
void backward(const Inputs<double>& in, const Grads<double>& g, void* stream) { launch_backward(in, g, stream); }

}  // namespace looplab::blocks::cuda_scan
