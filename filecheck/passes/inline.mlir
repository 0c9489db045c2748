// RUN: tiers-opt %s --split-input-file -p inline | filecheck %s

// Nested private functions (what the importer makes of nested `jax.jit`s) are inlined into
// their callers, innermost too, and erased once nothing calls them.

func.func @main(%x: tensor<4xf32>, %y: tensor<4xf32>) -> tensor<4xf32> {
  %0 = func.call @outer(%x, %y) : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %1 = func.call @outer(%0, %y) : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  func.return %1 : tensor<4xf32>
}
func.func private @outer(%a: tensor<4xf32>, %b: tensor<4xf32>) -> tensor<4xf32> {
  %0 = func.call @inner(%a) : (tensor<4xf32>) -> tensor<4xf32>
  %1 = lax.mul %0, %b : tensor<4xf32>
  func.return %1 : tensor<4xf32>
}
func.func private @inner(%a: tensor<4xf32>) -> tensor<4xf32> {
  %0 = lax.exp %a : tensor<4xf32>
  func.return %0 : tensor<4xf32>
}
// A public function stays even when it is inlined, and so do its callees' bodies in it.
func.func @kept(%a: tensor<4xf32>) -> tensor<4xf32> {
  %0 = func.call @inner(%a) : (tensor<4xf32>) -> tensor<4xf32>
  func.return %0 : tensor<4xf32>
}

// CHECK-LABEL: func.func @main(%x: tensor<4xf32>, %y: tensor<4xf32>) -> tensor<4xf32> {
// CHECK-NEXT:    %0 = lax.exp %x : tensor<4xf32>
// CHECK-NEXT:    %1 = lax.mul %0, %y : tensor<4xf32>
// CHECK-NEXT:    %2 = lax.exp %1 : tensor<4xf32>
// CHECK-NEXT:    %3 = lax.mul %2, %y : tensor<4xf32>
// CHECK-NEXT:    func.return %3 : tensor<4xf32>
// CHECK-NEXT:  }
// CHECK-NEXT:  func.func @kept(%a: tensor<4xf32>) -> tensor<4xf32> {
// CHECK-NEXT:    %0 = lax.exp %a : tensor<4xf32>
// CHECK-NEXT:    func.return %0 : tensor<4xf32>
// CHECK-NEXT:  }
// CHECK-NEXT: }
// CHECK-EMPTY:
// CHECK-NEXT: //{{ }}-----

// -----

// RUN: tiers-opt %s --split-input-file -p inline | filecheck %s --check-prefix=DECL
// A declaration has no body to inline: its calls, and it, stay.

func.func @calls_external(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = func.call @external(%x) : (tensor<4xf32>) -> tensor<4xf32>
  func.return %0 : tensor<4xf32>
}
func.func private @external(tensor<4xf32>) -> tensor<4xf32>

// DECL-LABEL: func.func @calls_external
// DECL-NEXT:    %0 = func.call @external(%x) : (tensor<4xf32>) -> tensor<4xf32>
// DECL:       func.func private @external(tensor<4xf32>) -> tensor<4xf32>
