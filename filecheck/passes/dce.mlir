// RUN: tiers-opt %s -p dce | filecheck %s

// xDSL's `dce` drops `lax` ops whose results nobody uses (they carry the `Pure` trait), chains
// of them included. A `lax.generic` has no `Pure` trait (a rare primitive may have effects),
// so it stays even when unused.

// CHECK-LABEL: func.func @dead
func.func @dead(%x: tensor<4x8xf32>) -> tensor<4xf32> {
  %0 = lax.exp %x : tensor<4x8xf32>
  %1 = lax.tanh %0 : tensor<4x8xf32>
  %2 = lax.reduce_sum %1 axes [0] : tensor<4x8xf32> -> tensor<8xf32>
  %3 = lax.constant dense<2.0> : tensor<4x8xf32>
  %4 = lax.reduce_max %x axes [1] : tensor<4x8xf32> -> tensor<4xf32>
  %5 = lax.generic "erf_inv" %x params {} : tensor<4x8xf32>
  func.return %4 : tensor<4xf32>
}
// CHECK-NEXT:    %0 = lax.reduce_max %x axes [1] : tensor<4x8xf32> -> tensor<4xf32>
// CHECK-NEXT:    %1 = lax.generic "erf_inv" %x params {} : tensor<4x8xf32>
// CHECK-NEXT:    func.return %0 : tensor<4xf32>
// CHECK-NEXT:  }
