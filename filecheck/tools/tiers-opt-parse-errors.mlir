// Malformed IR is reported where it is wrong, as mlir-opt reports it, also where xDSL 0.74's
// parser reports it elsewhere or crashes (tiers.pipeline.verify.LocatingParser), and an empty
// chunk is an empty module. One chunk per error; --parsing-diagnostics prints each and goes on.
// RUN: tiers-opt %s --split-input-file --parsing-diagnostics | filecheck %s
// RUN: not tiers-opt %s 2>&1 | filecheck %s --check-prefix=FIRST

func.func @undefined(%x: tensor<f32>) -> tensor<f32> {
  %0 = lax.add %x, %y : tensor<f32>
  func.return %0 : tensor<f32>
}
// CHECK:      tiers-opt-parse-errors.mlir:8:20
// CHECK-NEXT:   %0 = lax.add %x, %y : tensor<f32>
// CHECK-NEXT:                    ^^
// CHECK-NEXT: use of undeclared SSA value %y
// FIRST:      tiers-opt-parse-errors.mlir:8:20: error: use of undeclared SSA value %y
// FIRST-NEXT:   %0 = lax.add %x, %y : tensor<f32>
// FIRST-NEXT:                    ^^
// FIRST-NOT:  error

// -----

func.func @shape() -> tensor<3xf32> {
  %0 = lax.constant dense<[1.0, 2.0]> : tensor<3xf32>
  func.return %0 : tensor<3xf32>
}
// CHECK:      tiers-opt-parse-errors.mlir:23:21
// CHECK-NEXT:   %0 = lax.constant dense<[1.0, 2.0]> : tensor<3xf32>
// CHECK-NEXT:                     ^^^^^^
// CHECK-NEXT: Shape mismatch in dense literal. Expected [3] shape from the type, but got [2] shape.

// -----

func.func @range() -> tensor<2xi8> {
  %0 = lax.constant dense<[1, 300]> : tensor<2xi8>
  func.return %0 : tensor<2xi8>
}
// CHECK:      tiers-opt-parse-errors.mlir:34:31
// CHECK-NEXT:   %0 = lax.constant dense<[1, 300]> : tensor<2xi8>
// CHECK-NEXT:                               ^^^
// CHECK-NEXT: integer constant 300 out of range for i8 [-128, 256)

// -----

func.func @blocks() {
  cf.br ^bb1
^bb1:
  cf.br ^bb1
^bb1:
  func.return
}
// CHECK:      tiers-opt-parse-errors.mlir:48:1
// CHECK-NEXT: ^bb1:
// CHECK-NEXT: ^^^^
// CHECK-NEXT: redefinition of block '^bb1'

// -----

func.func @no_block() {
  cf.br ^bb9
}
// CHECK:      tiers-opt-parse-errors.mlir:59:9
// CHECK-NEXT:   cf.br ^bb9
// CHECK-NEXT:         ^^^^
// CHECK-NEXT: reference to an undefined block ^bb9

// -----

// An empty chunk (comments only) is an empty module.
// CHECK:      builtin.module {
// CHECK-NEXT: }
