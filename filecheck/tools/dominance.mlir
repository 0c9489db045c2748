// A use before its definition: xDSL's verifier accepts it, tiers' dominance check does not
// (at parse time and after every pass), with the user's position.
// RUN: not tiers-opt %s 2>&1 | filecheck %s

func.func @main(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = lax.add %1, %x : tensor<4xf32>
  %1 = lax.neg %x : tensor<4xf32>
  func.return %0 : tensor<4xf32>
}
// CHECK: dominance.mlir:6:3: error: operand #0 does not dominate this use
// CHECK-NEXT: %0 = lax.add %1, %x : tensor<4xf32>
