// RUN: tiers-opt %s --split-input-file --verify-diagnostics | filecheck %s

// Each case is one verifier of the control-flow ops in dialects/lax.py.

func.func @while_body_yields_wrong_type(%x: tensor<f32>) -> tensor<f32> {
  %r = lax.while (%x) : tensor<f32> cond {
  ^bb0(%c: tensor<f32>):
    %p = lax.constant dense<true> : tensor<i1>
    lax.yield %p : tensor<i1>
  } do {
  ^bb0(%c: tensor<f32>):
    %d = lax.convert_element_type %c : tensor<f32> -> tensor<f64>
    lax.yield %d : tensor<f64>
  }
  func.return %r : tensor<f32>
}
// CHECK: control_flow_invalid.mlir:6:3: error: 'lax.while': body region yields (tensor<f64>), expected (tensor<f32>)

// -----

func.func @while_body_args(%x: tensor<f32>) -> tensor<f32> {
  %r = lax.while (%x) : tensor<f32> cond {
  ^bb0(%c: tensor<f32>):
    %p = lax.constant dense<true> : tensor<i1>
    lax.yield %p : tensor<i1>
  } do {
  ^bb0(%c: tensor<2xf32>):
    lax.yield %x : tensor<f32>
  }
  func.return %r : tensor<f32>
}
// CHECK: control_flow_invalid.mlir:22:3: error: 'lax.while': body region block arguments (tensor<2xf32>) must be (tensor<f32>)

// -----

func.func @while_cond_not_scalar_bool(%x: tensor<2xf32>) -> tensor<2xf32> {
  %r = lax.while (%x) : tensor<2xf32> cond {
  ^bb0(%c: tensor<2xf32>):
    %p = lax.constant dense<true> : tensor<2xi1>
    lax.yield %p : tensor<2xi1>
  } do {
  ^bb0(%c: tensor<2xf32>):
    lax.yield %c : tensor<2xf32>
  }
  func.return %r : tensor<2xf32>
}
// CHECK: control_flow_invalid.mlir:37:3: error: 'lax.while': cond region yields (tensor<2xi1>), expected (tensor<i1>)

// -----

func.func @while_results(%x: tensor<f32>) -> tensor<i32> {
  %r = "lax.while"(%x) ({
  ^bb0(%c: tensor<f32>):
    %p = lax.constant dense<true> : tensor<i1>
    lax.yield %p : tensor<i1>
  }, {
  ^bb0(%c: tensor<f32>):
    lax.yield %c : tensor<f32>
  }) : (tensor<f32>) -> tensor<i32>
  func.return %r : tensor<i32>
}
// CHECK: control_flow_invalid.mlir:52:3: error: 'lax.while': result types (tensor<i32>) must equal the carried types (tensor<f32>)

// -----

func.func @cond_branch_types(%i: tensor<i32>, %x: tensor<f32>) -> tensor<f32> {
  %r = lax.cond %i : tensor<i32> -> tensor<f32> {
    lax.yield %x : tensor<f32>
  }, {
    %y = lax.convert_element_type %x : tensor<f32> -> tensor<i32>
    lax.yield %y : tensor<i32>
  }
  func.return %r : tensor<f32>
}
// CHECK: control_flow_invalid.mlir:67:3: error: 'lax.cond': branch 1 yields (tensor<i32>), expected (tensor<f32>)

// -----

func.func @cond_index(%i: tensor<2xi32>, %x: tensor<f32>) -> tensor<f32> {
  %r = lax.cond %i : tensor<2xi32> -> tensor<f32> {
    lax.yield %x : tensor<f32>
  }
  func.return %r : tensor<f32>
}
// CHECK: control_flow_invalid.mlir:80:3: error: 'lax.cond': index must be an integer or i1 scalar, got tensor<2xi32>

// -----

func.func @cond_branch_args(%i: tensor<i32>, %x: tensor<f32>) -> tensor<f32> {
  %r = lax.cond %i : tensor<i32> -> tensor<f32> {
  ^bb0(%a: tensor<f32>):
    lax.yield %a : tensor<f32>
  }
  func.return %r : tensor<f32>
}
// CHECK: control_flow_invalid.mlir:90:3: error: 'lax.cond': branch 0 block arguments (tensor<f32>) must be ()

// -----

func.func @cond_terminator(%i: tensor<i32>, %x: tensor<f32>) -> tensor<f32> {
  %r = lax.cond %i : tensor<i32> -> tensor<f32> {
    %y = lax.neg %x : tensor<f32>
  }
  func.return %r : tensor<f32>
}
// CHECK: control_flow_invalid.mlir:102:5: error: Operation lax.neg terminates block in single-block region but is not a terminator

// -----

func.func @scan_carry(%c0: tensor<f32>, %xs: tensor<5xf32>) -> tensor<f32> {
  %r = lax.scan (%c0) xs (%xs) length 5 reverse false unroll 1 : (tensor<f32>, tensor<5xf32>) -> tensor<f32> {
  ^bb0(%c: tensor<f32>, %e: tensor<f32>):
    %z = lax.constant dense<0.0> : tensor<2xf32>
    lax.yield %z : tensor<2xf32>
  }
  func.return %r : tensor<f32>
}
// CHECK: control_flow_invalid.mlir:111:3: error: 'lax.scan': body region yields (tensor<2xf32>), expected (tensor<f32>)

// -----

func.func @scan_xs_length(%c0: tensor<f32>, %xs: tensor<4xf32>) -> tensor<f32> {
  %r = lax.scan (%c0) xs (%xs) length 5 reverse false unroll 1 : (tensor<f32>, tensor<4xf32>) -> tensor<f32> {
  ^bb0(%c: tensor<f32>, %e: tensor<f32>):
    lax.yield %c : tensor<f32>
  }
  func.return %r : tensor<f32>
}
// CHECK: control_flow_invalid.mlir:123:3: error: 'lax.scan': xs operand tensor<4xf32> must have leading dimension 5 (length)

// -----

func.func @scan_ys_length(%c0: tensor<f32>) -> (tensor<f32>, tensor<4xf32>) {
  %r:2 = lax.scan (%c0) xs () length 5 reverse false unroll 1 : tensor<f32> -> (tensor<f32>, tensor<4xf32>) {
  ^bb0(%c: tensor<f32>):
    lax.yield %c, %c : tensor<f32>, tensor<f32>
  }
  func.return %r#0, %r#1 : tensor<f32>, tensor<4xf32>
}
// CHECK: control_flow_invalid.mlir:134:3: error: 'lax.scan': ys result tensor<4xf32> must have leading dimension 5 (length)

// -----

func.func @scan_unroll(%c0: tensor<f32>) -> tensor<f32> {
  %r = lax.scan (%c0) xs () length 5 reverse false unroll 0 : tensor<f32> -> tensor<f32> {
  ^bb0(%c: tensor<f32>):
    lax.yield %c : tensor<f32>
  }
  func.return %r : tensor<f32>
}
// CHECK: control_flow_invalid.mlir:145:3: error: 'lax.scan': length must be >= 0 and unroll >= 1, got 5 and 0

// -----

func.func @yield_outside(%x: tensor<f32>) -> tensor<f32> {
  lax.yield %x : tensor<f32>
}
// CHECK: control_flow_invalid.mlir:156:3: error: 'lax.yield' expects parent op to be one of 'lax.cond', 'lax.while', 'lax.scan'
