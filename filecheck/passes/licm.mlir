// RUN: tiers-opt %s -p licm | filecheck %s

// `licm` hoists ops that read nothing defined in the loop out of `lax.while` (cond and body),
// `lax.scan` bodies and `scf.for`, innermost loop first and as far out as they go. Ops that
// read a carried value, a scan slice, or an op that does, stay; `lax.cond` branches and ops
// without `Pure` (`lax.generic`) stay.

// CHECK-LABEL: func.func @scan_body
func.func @scan_body(%a: tensor<4x4xf32>, %b: tensor<4x4xf32>, %c0: tensor<4x4xf32>, %xs: tensor<5x4xf32>) -> (tensor<4x4xf32>, tensor<5x4xf32>) {
  %r:2 = lax.scan (%c0) xs (%xs) length 5 reverse false unroll 1 : (tensor<4x4xf32>, tensor<5x4xf32>) -> (tensor<4x4xf32>, tensor<5x4xf32>) {
  ^bb0(%c: tensor<4x4xf32>, %x: tensor<4xf32>):
    %m = lax.dot_general %a, %b lhs_contracting [1] rhs_contracting [0] lhs_batch [] rhs_batch [] : tensor<4x4xf32>
    %e = lax.exp %m : tensor<4x4xf32>
    %n = lax.add %c, %e : tensor<4x4xf32>
    %y = lax.neg %x : tensor<4xf32>
    lax.yield %n, %y : tensor<4x4xf32>, tensor<4xf32>
  }
  func.return %r#0, %r#1 : tensor<4x4xf32>, tensor<5x4xf32>
}
// CHECK-NEXT:    %m = lax.dot_general %a, %b
// CHECK-NEXT:    %e = lax.exp %m : tensor<4x4xf32>
// CHECK-NEXT:    %r, %r_1 = lax.scan (%c0) xs (%xs)
// CHECK-NEXT:    ^bb{{[0-9]+}}(%c: tensor<4x4xf32>, %x: tensor<4xf32>):
// CHECK-NEXT:      %n = lax.add %c, %e : tensor<4x4xf32>
// CHECK-NEXT:      %y = lax.neg %x : tensor<4xf32>
// CHECK-NEXT:      lax.yield %n, %y

// Both regions of a while: the cond runs at least once, the body maybe never (pure XLA ops
// do not trap, so computing them once before the loop is harmless).
// CHECK-LABEL: func.func @while_regions
func.func @while_regions(%x: tensor<f32>, %n: tensor<i32>) -> tensor<f32> {
  %r:2 = lax.while (%x, %n) : (tensor<f32>, tensor<i32>) cond {
  ^bb0(%c: tensor<f32>, %k: tensor<i32>):
    %zero = lax.constant dense<0> : tensor<i32>
    %p = lax.gt %k, %zero : (tensor<i32>, tensor<i32>) -> tensor<i1>
    lax.yield %p : tensor<i1>
  } do {
  ^bb0(%c: tensor<f32>, %k: tensor<i32>):
    %one = lax.constant dense<1> : tensor<i32>
    %k2 = lax.sub %k, %one : tensor<i32>
    %s = lax.sin %x : tensor<f32>
    %c2 = lax.mul %c, %s : tensor<f32>
    lax.yield %c2, %k2 : tensor<f32>, tensor<i32>
  }
  func.return %r#0 : tensor<f32>
}
// CHECK-NEXT:    %zero = lax.constant dense<0> : tensor<i32>
// CHECK-NEXT:    %one = lax.constant dense<1> : tensor<i32>
// CHECK-NEXT:    %s = lax.sin %x : tensor<f32>
// CHECK-NEXT:    %r, %r_1 = lax.while (%x, %n) : (tensor<f32>, tensor<i32>) cond {
// CHECK-NEXT:    ^bb{{[0-9]+}}(%c: tensor<f32>, %k: tensor<i32>):
// CHECK-NEXT:      %p = lax.gt %k, %zero
// CHECK-NEXT:      lax.yield %p : tensor<i1>
// CHECK-NEXT:    } do {
// CHECK-NEXT:    ^bb{{[0-9]+}}(%c_1: tensor<f32>, %k_1: tensor<i32>):
// CHECK-NEXT:      %k2 = lax.sub %k_1, %one : tensor<i32>
// CHECK-NEXT:      %c2 = lax.mul %c_1, %s : tensor<f32>
// CHECK-NEXT:      lax.yield %c2, %k2

// Nested loops: %e depends on nothing in either loop and leaves both; %f reads the outer
// carry, so it leaves only the inner scan; %g reads the inner carry and stays.
// CHECK-LABEL: func.func @nested
func.func @nested(%a: tensor<8xf32>, %c0: tensor<8xf32>) -> tensor<8xf32> {
  %r = lax.scan (%c0) xs () length 3 reverse false unroll 1 : (tensor<8xf32>) -> (tensor<8xf32>) {
  ^bb0(%c: tensor<8xf32>):
    %in = lax.scan (%c) xs () length 4 reverse false unroll 1 : (tensor<8xf32>) -> (tensor<8xf32>) {
    ^bb1(%d: tensor<8xf32>):
      %e = lax.exp %a : tensor<8xf32>
      %f = lax.tanh %c : tensor<8xf32>
      %g = lax.add %d, %e : tensor<8xf32>
      %h = lax.mul %g, %f : tensor<8xf32>
      lax.yield %h : tensor<8xf32>
    }
    lax.yield %in : tensor<8xf32>
  }
  func.return %r : tensor<8xf32>
}
// CHECK-NEXT:    %e = lax.exp %a : tensor<8xf32>
// CHECK-NEXT:    %r = lax.scan (%c0)
// CHECK-NEXT:    ^bb{{[0-9]+}}(%c: tensor<8xf32>):
// CHECK-NEXT:      %f = lax.tanh %c : tensor<8xf32>
// CHECK-NEXT:      %in = lax.scan (%c)
// CHECK-NEXT:      ^bb{{[0-9]+}}(%d: tensor<8xf32>):
// CHECK-NEXT:        %g = lax.add %d, %e : tensor<8xf32>
// CHECK-NEXT:        %h = lax.mul %g, %f : tensor<8xf32>
// CHECK-NEXT:        lax.yield %h : tensor<8xf32>
// CHECK-NEXT:      }
// CHECK-NEXT:      lax.yield %in : tensor<8xf32>

// A whole invariant inner loop moves when it may: a scan is speculatable (it always
// terminates); a while is not (it need not terminate, and the outer body may never run).
// CHECK-LABEL: func.func @invariant_inner_loops
func.func @invariant_inner_loops(%a: tensor<f32>, %c0: tensor<f32>, %n: tensor<i32>) -> tensor<f32> {
  %r = lax.scan (%c0) xs () length 3 reverse false unroll 1 : (tensor<f32>) -> (tensor<f32>) {
  ^bb0(%c: tensor<f32>):
    %s = lax.scan (%a) xs () length 2 reverse false unroll 1 : (tensor<f32>) -> (tensor<f32>) {
    ^bb1(%d: tensor<f32>):
      %d2 = lax.sin %d : tensor<f32>
      lax.yield %d2 : tensor<f32>
    }
    %w:2 = lax.while (%a, %n) : (tensor<f32>, tensor<i32>) cond {
    ^bb2(%u: tensor<f32>, %k: tensor<i32>):
      %zero = lax.constant dense<0> : tensor<i32>
      %p = lax.gt %k, %zero : (tensor<i32>, tensor<i32>) -> tensor<i1>
      lax.yield %p : tensor<i1>
    } do {
    ^bb3(%u: tensor<f32>, %k: tensor<i32>):
      %one = lax.constant dense<1> : tensor<i32>
      %k2 = lax.sub %k, %one : tensor<i32>
      lax.yield %u, %k2 : tensor<f32>, tensor<i32>
    }
    %t = lax.add %c, %s : tensor<f32>
    %t2 = lax.add %t, %w#0 : tensor<f32>
    lax.yield %t2 : tensor<f32>
  }
  func.return %r : tensor<f32>
}
// CHECK-NEXT:    %s = lax.scan (%a)
// CHECK:         %zero = lax.constant dense<0> : tensor<i32>
// CHECK-NEXT:    %one = lax.constant dense<1> : tensor<i32>
// CHECK-NEXT:    %r = lax.scan (%c0)
// CHECK-NEXT:    ^bb{{.*}}(%c: tensor<f32>):
// CHECK-NEXT:      %w, %w_1 = lax.while (%a, %n)
// CHECK:           %t = lax.add %c, %s : tensor<f32>

// Branches of a cond are not loops: %e stays inside (hoisting would compute it always).
// Inside a loop the whole cond moves when it reads only invariant values.
// CHECK-LABEL: func.func @cond_branches
func.func @cond_branches(%i: tensor<i32>, %x: tensor<4xf32>, %c0: tensor<4xf32>) -> tensor<4xf32> {
  %r = lax.scan (%c0) xs () length 3 reverse false unroll 1 : (tensor<4xf32>) -> (tensor<4xf32>) {
  ^bb0(%c: tensor<4xf32>):
    %k = lax.cond %i : tensor<i32> -> tensor<4xf32> {
      %e = lax.exp %x : tensor<4xf32>
      lax.yield %e : tensor<4xf32>
    }, {
      lax.yield %x : tensor<4xf32>
    }
    %v = lax.cond %i : tensor<i32> -> tensor<4xf32> {
      %e2 = lax.exp %x : tensor<4xf32>
      lax.yield %e2 : tensor<4xf32>
    }, {
      lax.yield %c : tensor<4xf32>
    }
    %n = lax.add %k, %v : tensor<4xf32>
    lax.yield %n : tensor<4xf32>
  }
  func.return %r : tensor<4xf32>
}
// CHECK-NEXT:    %k = lax.cond %i : tensor<i32> -> tensor<4xf32> {
// CHECK-NEXT:      %e = lax.exp %x : tensor<4xf32>
// CHECK-NEXT:      lax.yield %e
// CHECK-NEXT:    }, {
// CHECK-NEXT:      lax.yield %x
// CHECK-NEXT:    }
// CHECK-NEXT:    %r = lax.scan (%c0)
// CHECK-NEXT:    ^bb{{[0-9]+}}(%c: tensor<4xf32>):
// CHECK-NEXT:      %v = lax.cond %i : tensor<i32> -> tensor<4xf32> {
// CHECK-NEXT:        %e2 = lax.exp %x : tensor<4xf32>

// Ops without `Pure` never move.
// CHECK-LABEL: func.func @opaque
func.func @opaque(%x: tensor<4xf32>, %c0: tensor<4xf32>) -> tensor<4xf32> {
  %r = lax.scan (%c0) xs () length 3 reverse false unroll 1 : (tensor<4xf32>) -> (tensor<4xf32>) {
  ^bb0(%c: tensor<4xf32>):
    %g = lax.generic "erf_inv" %x params {} : tensor<4xf32>
    %n = lax.add %c, %g : tensor<4xf32>
    lax.yield %n : tensor<4xf32>
  }
  func.return %r : tensor<4xf32>
}
// CHECK-NEXT:    %r = lax.scan (%c0)
// CHECK-NEXT:    ^bb{{[0-9]+}}(%c: tensor<4xf32>):
// CHECK-NEXT:      %g = lax.generic

// scf.for keeps working as in xDSL's pass.
// CHECK-LABEL: func.func @scf_for
func.func @scf_for(%lb: index, %ub: index, %st: index, %x: tensor<4xf32>, %c0: tensor<4xf32>) -> tensor<4xf32> {
  %r = scf.for %iv = %lb to %ub step %st iter_args(%c = %c0) -> (tensor<4xf32>) {
    %e = lax.exp %x : tensor<4xf32>
    %n = lax.add %c, %e : tensor<4xf32>
    scf.yield %n : tensor<4xf32>
  }
  func.return %r : tensor<4xf32>
}
// CHECK-NEXT:    %e = lax.exp %x : tensor<4xf32>
// CHECK-NEXT:    %r = scf.for
// CHECK-NEXT:      %n = lax.add %c, %e
