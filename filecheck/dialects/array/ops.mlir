// RUN: tiers-opt %s | filecheck %s
// RUN: tiers-opt %s | tiers-opt | filecheck %s
// RUN: tiers-opt %s --print-op-generic | tiers-opt | filecheck %s

// Every op of dialects/array.py in the shared custom form `array.NAME operands props : types`.

// CHECK-LABEL: func.func @activations
func.func @activations(%x: tensor<4x8xf32>, %i: tensor<4x8xi32>) -> (tensor<4x8xf32>, tensor<4x8xi32>) {
  // CHECK-NEXT: %0 = array.relu %x : tensor<4x8xf32>
  %0 = array.relu %x : tensor<4x8xf32>
  // CHECK-NEXT: %1 = array.relu %i : tensor<4x8xi32>
  %1 = array.relu %i : tensor<4x8xi32>
  // CHECK-NEXT: %2 = array.gelu %0 approximate true : tensor<4x8xf32>
  %2 = array.gelu %0 approximate true : tensor<4x8xf32>
  // CHECK-NEXT: %3 = array.gelu %2 approximate false : tensor<4x8xf32>
  %3 = array.gelu %2 approximate false : tensor<4x8xf32>
  // CHECK-NEXT: %4 = array.silu %3 : tensor<4x8xf32>
  %4 = array.silu %3 : tensor<4x8xf32>
  func.return %4, %1 : tensor<4x8xf32>, tensor<4x8xi32>
}

// CHECK-LABEL: func.func @along_an_axis
func.func @along_an_axis(%x: tensor<4x8xf32>) -> (tensor<4x8xf32>, tensor<8xf32>) {
  // CHECK-NEXT: %0 = array.softmax %x axis 1 : tensor<4x8xf32>
  %0 = array.softmax %x axis 1 : tensor<4x8xf32>
  // CHECK-NEXT: %1 = array.log_softmax %0 axis 0 : tensor<4x8xf32>
  %1 = array.log_softmax %0 axis 0 : tensor<4x8xf32>
  // CHECK-NEXT: %2 = array.logsumexp %1 axis 0 : tensor<4x8xf32> -> tensor<8xf32>
  %2 = array.logsumexp %1 axis 0 : tensor<4x8xf32> -> tensor<8xf32>
  func.return %1, %2 : tensor<4x8xf32>, tensor<8xf32>
}

// CHECK-LABEL: func.func @statistics
func.func @statistics(%x: tensor<2x4x8xf32>) -> (tensor<4xf32>, tensor<2x4xf32>) {
  // CHECK-NEXT: %0 = array.mean %x axes [0, 2] : tensor<2x4x8xf32> -> tensor<4xf32>
  %0 = array.mean %x axes [0, 2] : tensor<2x4x8xf32> -> tensor<4xf32>
  // Properties print in definition order, whatever order they are written in.
  // CHECK-NEXT: %1 = array.var %x axes [2] ddof 1 : tensor<2x4x8xf32> -> tensor<2x4xf32>
  %1 = array.var %x ddof 1 axes [2] : tensor<2x4x8xf32> -> tensor<2x4xf32>
  func.return %0, %1 : tensor<4xf32>, tensor<2x4xf32>
}

// CHECK-LABEL: func.func @normalizations
func.func @normalizations(%x: tensor<4x8xf32>, %g: tensor<8xf32>, %b: tensor<8xf32>) -> tensor<4x8xf32> {
  // The affine operands are [], [scale] or [scale, bias].
  // CHECK-NEXT: %0 = array.layer_norm %x axis 1 epsilon 1.000000e-05 : f64 : tensor<4x8xf32>
  %0 = array.layer_norm %x axis 1 epsilon 1.0e-05 : f64 : tensor<4x8xf32>
  // CHECK-NEXT: %1 = array.layer_norm %0, %g axis 1 epsilon 1.000000e-05 : f64 : (tensor<4x8xf32>, tensor<8xf32>) -> tensor<4x8xf32>
  %1 = array.layer_norm %0, %g axis 1 epsilon 1.0e-05 : f64 : (tensor<4x8xf32>, tensor<8xf32>) -> tensor<4x8xf32>
  // CHECK-NEXT: %2 = array.layer_norm %1, %g, %b axis 1 epsilon 9.9999997473787516e-06 : f64 : (tensor<4x8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<4x8xf32>
  %2 = array.layer_norm %1, %g, %b axis 1 epsilon 9.9999997473787516e-06 : f64 : (tensor<4x8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<4x8xf32>
  // CHECK-NEXT: %3 = array.rms_norm %2 axis 1 epsilon 1.000000e-06 : f64 : tensor<4x8xf32>
  %3 = array.rms_norm %2 axis 1 epsilon 1.0e-06 : f64 : tensor<4x8xf32>
  // CHECK-NEXT: %4 = array.rms_norm %3, %g axis 1 epsilon 0.000000e+00 : f64 : (tensor<4x8xf32>, tensor<8xf32>) -> tensor<4x8xf32>
  %4 = array.rms_norm %3, %g axis 1 epsilon 0.0 : f64 : (tensor<4x8xf32>, tensor<8xf32>) -> tensor<4x8xf32>
  func.return %4 : tensor<4x8xf32>
}

// CHECK-LABEL: func.func @contractions
func.func @contractions(%x: tensor<2x4x8xf32>, %w: tensor<8x3xf32>, %c: tensor<3x1x8x5xf32>, %q: tensor<2x4x8xf32>, %k: tensor<2x6x8xf32>, %v: tensor<2x6x5xf32>, %m: tensor<2x4x6xi1>) -> (tensor<2x4x3xf32>, tensor<3x2x4x5xf32>, tensor<2x4x5xf32>, tensor<2x4x5xf32>) {
  // CHECK-NEXT: %0 = array.matmul %x, %w : (tensor<2x4x8xf32>, tensor<8x3xf32>) -> tensor<2x4x3xf32>
  %0 = array.matmul %x, %w : (tensor<2x4x8xf32>, tensor<8x3xf32>) -> tensor<2x4x3xf32>
  // Batch dims broadcast as in jnp.matmul.
  // CHECK-NEXT: %1 = array.matmul %x, %c : (tensor<2x4x8xf32>, tensor<3x1x8x5xf32>) -> tensor<3x2x4x5xf32>
  %1 = array.matmul %x, %c : (tensor<2x4x8xf32>, tensor<3x1x8x5xf32>) -> tensor<3x2x4x5xf32>
  // CHECK-NEXT: %2 = array.attention %q, %k, %v scale 1.250000e-01 : f64 : (tensor<2x4x8xf32>, tensor<2x6x8xf32>, tensor<2x6x5xf32>) -> tensor<2x4x5xf32>
  %2 = array.attention %q, %k, %v scale 0.125 : f64 : (tensor<2x4x8xf32>, tensor<2x6x8xf32>, tensor<2x6x5xf32>) -> tensor<2x4x5xf32>
  // CHECK-NEXT: %3 = array.attention %q, %k, %v, %m scale 1.250000e-01 : f64 : (tensor<2x4x8xf32>, tensor<2x6x8xf32>, tensor<2x6x5xf32>, tensor<2x4x6xi1>) -> tensor<2x4x5xf32>
  %3 = array.attention %q, %k, %v, %m scale 0.125 : f64 : (tensor<2x4x8xf32>, tensor<2x6x8xf32>, tensor<2x6x5xf32>, tensor<2x4x6xi1>) -> tensor<2x4x5xf32>
  func.return %0, %1, %2, %3 : tensor<2x4x3xf32>, tensor<3x2x4x5xf32>, tensor<2x4x5xf32>, tensor<2x4x5xf32>
}
