// Depthwise 2-D convolution (one k_h x k_w filter per channel, no bias, zero padding, no
// dilation) on float32 NCHW tensors, with its gradients, as a Paddle custom operator.
//
// Why: Paddle's CPU depthwise kernels do an im2col and a tiny GEMM per sample and channel, which
// makes them about half of a MobileNetV3 training step. Here every output row is a sum of shifted
// input rows scaled by one filter tap, so the inner loops run along contiguous rows and the
// compiler vectorises them; there is no im2col and no layout reorder.
//
// x [N, C, H, W], weight [C, 1, KH, KW] -> out [N, C, OH, OW] with
// OH = (H + 2 pad_h - KH) / stride_h + 1 and OW likewise.
#include <algorithm>
#include <cstdint>
#include <vector>

#include "paddle/extension.h"

namespace {

struct Geometry {
  int64_t planes, channels, height, width, kernel_h, kernel_w, out_h, out_w;
  int64_t stride_h, stride_w, pad_h, pad_w;
};

Geometry MakeGeometry(const std::vector<int64_t>& x, const std::vector<int64_t>& weight, int stride_h,
                      int stride_w, int pad_h, int pad_w) {
  PD_CHECK(x.size() == 4, "depthwise_conv2d: x must be [N, C, H, W]");
  PD_CHECK(weight.size() == 4 && weight[1] == 1 && weight[0] == x[1],
           "depthwise_conv2d: weight must be [C, 1, KH, KW] with C = x's channels");
  PD_CHECK(stride_h > 0 && stride_w > 0 && pad_h >= 0 && pad_w >= 0, "depthwise_conv2d: bad stride/padding");
  Geometry g{x[0] * x[1], x[1], x[2], x[3], weight[2], weight[3], 0, 0, stride_h, stride_w, pad_h, pad_w};
  g.out_h = (g.height + 2 * pad_h - g.kernel_h) / stride_h + 1;
  g.out_w = (g.width + 2 * pad_w - g.kernel_w) / stride_w + 1;
  PD_CHECK(g.out_h > 0 && g.out_w > 0, "depthwise_conv2d: the kernel is larger than the padded input");
  return g;
}

// Output columns [begin, end) whose input column ow * stride_w + j - pad_w lies inside the row.
void ColumnRange(const Geometry& g, int64_t j, int64_t* begin, int64_t* end) {
  const int64_t offset = j - g.pad_w;
  *begin = offset >= 0 ? 0 : (-offset + g.stride_w - 1) / g.stride_w;
  const int64_t last = g.width - 1 - offset;
  *end = last < 0 ? 0 : std::min(g.out_w, last / g.stride_w + 1);
}

void CheckInput(const paddle::Tensor& tensor, const char* name) {
  PD_CHECK(tensor.is_cpu(), "depthwise_conv2d: ", name, " must be on the CPU");
  PD_CHECK(tensor.dtype() == paddle::DataType::FLOAT32, "depthwise_conv2d: ", name, " must be float32");
}

}  // namespace

std::vector<paddle::Tensor> DepthwiseConvForward(const paddle::Tensor& x, const paddle::Tensor& weight,
                                                 int stride_h, int stride_w, int pad_h, int pad_w) {
  CheckInput(x, "x");
  CheckInput(weight, "weight");
  const Geometry g = MakeGeometry(x.shape(), weight.shape(), stride_h, stride_w, pad_h, pad_w);
  auto out = paddle::full({x.shape()[0], g.channels, g.out_h, g.out_w}, 0.0f, paddle::DataType::FLOAT32,
                          paddle::CPUPlace());
  const float* input = x.data<float>();
  const float* filters = weight.data<float>();
  float* output = out.data<float>();
  for (int64_t plane = 0; plane < g.planes; ++plane) {
    const float* in = input + plane * g.height * g.width;
    const float* filter = filters + (plane % g.channels) * g.kernel_h * g.kernel_w;
    float* result = output + plane * g.out_h * g.out_w;
    for (int64_t oh = 0; oh < g.out_h; ++oh) {
      float* row = result + oh * g.out_w;
      for (int64_t i = 0; i < g.kernel_h; ++i) {
        const int64_t ih = oh * g.stride_h + i - g.pad_h;
        if (ih < 0 || ih >= g.height) continue;
        const float* in_row = in + ih * g.width;
        for (int64_t j = 0; j < g.kernel_w; ++j) {
          const float tap = filter[i * g.kernel_w + j];
          const int64_t offset = j - g.pad_w;
          int64_t begin, end;
          ColumnRange(g, j, &begin, &end);
          if (g.stride_w == 1) {
#pragma omp simd
            for (int64_t ow = begin; ow < end; ++ow) row[ow] += tap * in_row[ow + offset];
          } else {
            for (int64_t ow = begin; ow < end; ++ow) row[ow] += tap * in_row[ow * g.stride_w + offset];
          }
        }
      }
    }
  }
  return {out};
}

std::vector<paddle::Tensor> DepthwiseConvBackward(const paddle::Tensor& x, const paddle::Tensor& weight,
                                                  const paddle::Tensor& grad_out, int stride_h, int stride_w,
                                                  int pad_h, int pad_w) {
  CheckInput(grad_out, "grad_out");
  const Geometry g = MakeGeometry(x.shape(), weight.shape(), stride_h, stride_w, pad_h, pad_w);
  auto grad_x = paddle::full(x.shape(), 0.0f, paddle::DataType::FLOAT32, paddle::CPUPlace());
  auto grad_weight = paddle::full(weight.shape(), 0.0f, paddle::DataType::FLOAT32, paddle::CPUPlace());
  const float* input = x.data<float>();
  const float* filters = weight.data<float>();
  const float* upstream = grad_out.data<float>();
  float* dx = grad_x.data<float>();
  float* dw = grad_weight.data<float>();
  for (int64_t plane = 0; plane < g.planes; ++plane) {
    const int64_t filter_offset = (plane % g.channels) * g.kernel_h * g.kernel_w;
    const float* in = input + plane * g.height * g.width;
    const float* filter = filters + filter_offset;
    const float* grad = upstream + plane * g.out_h * g.out_w;
    float* dx_plane = dx + plane * g.height * g.width;
    float* dw_filter = dw + filter_offset;
    for (int64_t oh = 0; oh < g.out_h; ++oh) {
      const float* grad_row = grad + oh * g.out_w;
      for (int64_t i = 0; i < g.kernel_h; ++i) {
        const int64_t ih = oh * g.stride_h + i - g.pad_h;
        if (ih < 0 || ih >= g.height) continue;
        const float* in_row = in + ih * g.width;
        float* dx_row = dx_plane + ih * g.width;
        for (int64_t j = 0; j < g.kernel_w; ++j) {
          const float tap = filter[i * g.kernel_w + j];
          const int64_t offset = j - g.pad_w;
          int64_t begin, end;
          ColumnRange(g, j, &begin, &end);
          float tap_grad = 0.0f;
          if (g.stride_w == 1) {
#pragma omp simd reduction(+ : tap_grad)
            for (int64_t ow = begin; ow < end; ++ow) {
              dx_row[ow + offset] += tap * grad_row[ow];
              tap_grad += grad_row[ow] * in_row[ow + offset];
            }
          } else {
            for (int64_t ow = begin; ow < end; ++ow) {
              dx_row[ow * g.stride_w + offset] += tap * grad_row[ow];
              tap_grad += grad_row[ow] * in_row[ow * g.stride_w + offset];
            }
          }
          dw_filter[i * g.kernel_w + j] += tap_grad;
        }
      }
    }
  }
  return {grad_x, grad_weight};
}

std::vector<std::vector<int64_t>> DepthwiseConvInferShape(const std::vector<int64_t>& x,
                                                          const std::vector<int64_t>& weight, int stride_h,
                                                          int stride_w, int pad_h, int pad_w) {
  const Geometry g = MakeGeometry(x, weight, stride_h, stride_w, pad_h, pad_w);
  return {{x[0], g.channels, g.out_h, g.out_w}};
}

std::vector<paddle::DataType> DepthwiseConvInferDtype(const paddle::DataType& x, const paddle::DataType& weight) {
  return {x};
}

PD_BUILD_OP(ppcrnn_depthwise_conv2d)
    .Inputs({"X", "Weight"})
    .Outputs({"Out"})
    .Attrs({"stride_h: int", "stride_w: int", "pad_h: int", "pad_w: int"})
    .SetKernelFn(PD_KERNEL(DepthwiseConvForward))
    .SetInferShapeFn(PD_INFER_SHAPE(DepthwiseConvInferShape))
    .SetInferDtypeFn(PD_INFER_DTYPE(DepthwiseConvInferDtype));

PD_BUILD_GRAD_OP(ppcrnn_depthwise_conv2d)
    .Inputs({"X", "Weight", paddle::Grad("Out")})
    .Outputs({paddle::Grad("X"), paddle::Grad("Weight")})
    .Attrs({"stride_h: int", "stride_w: int", "pad_h: int", "pad_w: int"})
    .SetKernelFn(PD_KERNEL(DepthwiseConvBackward));
