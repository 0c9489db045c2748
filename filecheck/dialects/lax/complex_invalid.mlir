// RUN: tiers-opt %s --split-input-file --verify-diagnostics | filecheck %s

// The verifiers accept complex numbers where JAX's dtype rules do, and no further.

func.func @ordered(%z: tensor<4xcomplex<f32>>) -> tensor<4xi1> {
  %0 = lax.lt %z, %z : (tensor<4xcomplex<f32>>, tensor<4xcomplex<f32>>) -> tensor<4xi1>
  func.return %0 : tensor<4xi1>
}
// CHECK: complex_invalid.mlir:6:3: error: 'lax.lt': does not accept complex operands (they have no order)

// -----

func.func @real_of_real(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = lax.real %x : tensor<4xf32>
  func.return %0 : tensor<4xf32>
}
// CHECK: complex_invalid.mlir:14:3: error: 'lax.real': expects complex operands, got f32

// -----

func.func @abs_is_real(%z: tensor<4xcomplex<f32>>) -> tensor<4xcomplex<f32>> {
  %0 = lax.abs %z : tensor<4xcomplex<f32>>
  func.return %0 : tensor<4xcomplex<f32>>
}
// CHECK: complex_invalid.mlir:22:3: error: 'lax.abs': result element type must be f32, got complex<f32>

// -----

func.func @floor(%z: tensor<4xcomplex<f32>>) -> tensor<4xcomplex<f32>> {
  %0 = lax.floor %z : tensor<4xcomplex<f32>>
  func.return %0 : tensor<4xcomplex<f32>>
}
// CHECK: complex_invalid.mlir:30:3: error: 'lax.floor': expects real floating-point operands, got complex<f32>

// -----

func.func @complex_of_half(%x: tensor<4xf16>) -> tensor<4xcomplex<f16>> {
  %0 = lax.complex %x, %x : (tensor<4xf16>, tensor<4xf16>) -> tensor<4xcomplex<f16>>
  func.return %0 : tensor<4xcomplex<f16>>
}
// CHECK: complex_invalid.mlir:38:3: error: 'lax.complex': expects f32 or f64 operands, got f16

// -----

func.func @fft_lengths(%z: tensor<4xcomplex<f32>>) -> tensor<4xcomplex<f32>> {
  %0 = lax.fft %z fft_type "FFT" fft_lengths [8] : tensor<4xcomplex<f32>>
  func.return %0 : tensor<4xcomplex<f32>>
}
// CHECK: complex_invalid.mlir:46:3: error: 'lax.fft': operand dimensions (4,) must equal fft_lengths [8]

// -----

func.func @rfft_shape(%x: tensor<8xf32>) -> tensor<8xcomplex<f32>> {
  %0 = lax.fft %x fft_type "RFFT" fft_lengths [8] : tensor<8xf32> -> tensor<8xcomplex<f32>>
  func.return %0 : tensor<8xcomplex<f32>>
}
// CHECK: complex_invalid.mlir:54:3: error: 'lax.fft': result must be (5,) of complex<f32>, got tensor<8xcomplex<f32>>

// -----

func.func @fft_type(%z: tensor<4xcomplex<f32>>) -> tensor<4xcomplex<f32>> {
  %0 = lax.fft %z fft_type "DCT" fft_lengths [4] : tensor<4xcomplex<f32>>
  func.return %0 : tensor<4xcomplex<f32>>
}
// CHECK: complex_invalid.mlir:62:3: error: 'lax.fft': fft_type must be one of FFT, IFFT, RFFT, IRFFT, got 'DCT'
