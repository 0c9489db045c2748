// RUN: tiers-run %s --input "[1, 2, 3]" --input "[4, 5, 6]:f32" | filecheck %s
// RUN: tiers-run %s --entry double --input "[[1, 2], [3, 4]]" | filecheck %s --check-prefix=INT
// RUN: tiers-run %s --entry double --input iota -p O1 | filecheck %s --check-prefix=IOTA
// RUN: not tiers-run %s --entry missing --input 1 2>&1 | filecheck %s --check-prefix=ENTRY
// RUN: not tiers-run %s --input "[1, 2]" --input "[1, 2, 3]" 2>&1 | filecheck %s --check-prefix=SHAPE

// tiers-run compiles one function with the JAX target and prints each output (numpy repr).

func.func @main(%x: tensor<3xf32>, %y: tensor<3xf32>) -> (tensor<3xf32>, tensor<f32>) {
  %0 = lax.mul %x, %y : tensor<3xf32>
  %1 = lax.reduce_sum %0 axes [0] : tensor<3xf32> -> tensor<f32>
  func.return %0, %1 : tensor<3xf32>, tensor<f32>
}
// CHECK:      array([ 4., 10., 18.], dtype=float32)
// CHECK-NEXT: array(32., dtype=float32)

func.func @double(%x: tensor<2x2xi32>) -> tensor<2x2xi32> {
  %0 = lax.add %x, %x : tensor<2x2xi32>
  func.return %0 : tensor<2x2xi32>
}
// INT:      array({{\[}}[2, 4],
// INT-NEXT:        [6, 8]], dtype=int32)
// IOTA:     array({{\[}}[0, 2],
// IOTA-NEXT:       [4, 6]], dtype=int32)

// ENTRY: tiers-run: error: no function @missing in {{.*}}tiers-run.mlir (functions: @main, @double)
// SHAPE: tiers-run: error: input 1 (x = [1, 2]): expected shape 3 (tensor<3xf32>), got 2
