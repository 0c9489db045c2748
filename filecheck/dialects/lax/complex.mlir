// RUN: tiers-opt %s | filecheck %s
// RUN: tiers-opt %s | tiers-opt | filecheck %s
// RUN: tiers-opt %s -o %t.mlir && tiers-run %t.mlir | filecheck %s --check-prefix=OUT

// Complex numbers are builtin `complex<f32>` / `complex<f64>` elements. Constants print their
// (real, imag) pairs, or raw little-endian bytes when a part is infinite or NaN (as real
// constants do, and, as for them, not in the generic form, where xDSL 0.74 prints such parts
// as integers); `lax.real`,
// `lax.imag`, `lax.abs` give real results, `lax.complex` and `lax.conj` complex ones.

// CHECK-LABEL: func.func @parts
func.func @parts(%x: tensor<3xf32>, %z: tensor<3xcomplex<f32>>) -> (tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xcomplex<f32>>, tensor<3xcomplex<f32>>, tensor<3xcomplex<f32>>, tensor<3xi1>) {
  // CHECK-NEXT: %0 = lax.real %z : tensor<3xcomplex<f32>> -> tensor<3xf32>
  %0 = lax.real %z : tensor<3xcomplex<f32>> -> tensor<3xf32>
  // CHECK-NEXT: %1 = lax.imag %z : tensor<3xcomplex<f32>> -> tensor<3xf32>
  %1 = lax.imag %z : tensor<3xcomplex<f32>> -> tensor<3xf32>
  // CHECK-NEXT: %2 = lax.abs %z : tensor<3xcomplex<f32>> -> tensor<3xf32>
  %2 = lax.abs %z : tensor<3xcomplex<f32>> -> tensor<3xf32>
  // CHECK-NEXT: %3 = lax.complex %0, %x : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xcomplex<f32>>
  %3 = lax.complex %0, %x : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xcomplex<f32>>
  // CHECK-NEXT: %4 = lax.conj %x : tensor<3xf32> -> tensor<3xcomplex<f32>>
  %4 = lax.conj %x : tensor<3xf32> -> tensor<3xcomplex<f32>>
  // CHECK-NEXT: %5 = lax.exp %3 : tensor<3xcomplex<f32>>
  %5 = lax.exp %3 : tensor<3xcomplex<f32>>
  // CHECK-NEXT: %6 = lax.eq %5, %z : (tensor<3xcomplex<f32>>, tensor<3xcomplex<f32>>) -> tensor<3xi1>
  %6 = lax.eq %5, %z : (tensor<3xcomplex<f32>>, tensor<3xcomplex<f32>>) -> tensor<3xi1>
  func.return %0, %1, %2, %3, %4, %5, %6 : tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xcomplex<f32>>, tensor<3xcomplex<f32>>, tensor<3xcomplex<f32>>, tensor<3xi1>
}

// CHECK-LABEL: func.func @fft
func.func @fft(%x: tensor<2x8xf32>, %z: tensor<2x8xcomplex<f32>>) -> (tensor<2x5xcomplex<f32>>, tensor<2x8xf32>, tensor<2x8xcomplex<f32>>) {
  // CHECK-NEXT: %0 = lax.fft %x fft_type "RFFT" fft_lengths [8] : tensor<2x8xf32> -> tensor<2x5xcomplex<f32>>
  %0 = lax.fft %x fft_type "RFFT" fft_lengths [8] : tensor<2x8xf32> -> tensor<2x5xcomplex<f32>>
  // CHECK-NEXT: %1 = lax.fft %0 fft_type "IRFFT" fft_lengths [8] : tensor<2x5xcomplex<f32>> -> tensor<2x8xf32>
  %1 = lax.fft %0 fft_type "IRFFT" fft_lengths [8] : tensor<2x5xcomplex<f32>> -> tensor<2x8xf32>
  // CHECK-NEXT: %2 = lax.fft %z fft_type "FFT" fft_lengths [2, 8] : tensor<2x8xcomplex<f32>>
  %2 = lax.fft %z fft_type "FFT" fft_lengths [2, 8] : tensor<2x8xcomplex<f32>>
  func.return %0, %1, %2 : tensor<2x5xcomplex<f32>>, tensor<2x8xf32>, tensor<2x8xcomplex<f32>>
}

func.func @main() -> (tensor<2xcomplex<f32>>, tensor<2xcomplex<f64>>, tensor<2xf32>) {
  %0 = lax.constant dense<[(1.5, -2.0), (-0.0, 0.25)]> : tensor<2xcomplex<f32>>
  %1 = lax.constant dense<"0x000000000000F07F000000000000F8FF00000000000000000000000000000080"> : tensor<2xcomplex<f64>>
  %2 = lax.abs %0 : tensor<2xcomplex<f32>> -> tensor<2xf32>
  func.return %0, %1, %2 : tensor<2xcomplex<f32>>, tensor<2xcomplex<f64>>, tensor<2xf32>
}
// CHECK-LABEL: func.func @main
// CHECK-NEXT: %0 = lax.constant dense<[(1.500000e+00,-2.000000e+00), (-0.000000e+00,2.500000e-01)]> : tensor<2xcomplex<f32>>
// CHECK-NEXT: %1 = lax.constant dense<"0x000000000000F07F000000000000F8FF00000000000000000000000000000080"> : tensor<2xcomplex<f64>>
// OUT: array([ 1.5-2.j  , -0. +0.25j], dtype=complex64)
// OUT-NEXT: array([inf+nanj,  0. -0.j])
// OUT-NEXT: array([2.5 , 0.25], dtype=float32)
