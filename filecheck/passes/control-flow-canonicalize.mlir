// RUN: tiers-opt %s -p canonicalize | filecheck %s

// `canonicalize` on loops and conds (passes/control_flow.py): dead carried values, dead scan
// outputs and unread xs go; carried values the body passes through unchanged become their
// init; a cond with a known branch is that branch; a while false at entry is its init.

// %acc is carried but only feeds itself and its result is unused: removed with its init,
// block arguments and yield operand; %k feeds the cond and stays.
// CHECK-LABEL: func.func @while_dead_accumulator
func.func @while_dead_accumulator(%x: tensor<f32>, %n: tensor<i32>, %a0: tensor<4xf32>) -> tensor<f32> {
  %r:3 = lax.while (%x, %n, %a0) : (tensor<f32>, tensor<i32>, tensor<4xf32>) cond {
  ^bb0(%c: tensor<f32>, %k: tensor<i32>, %acc: tensor<4xf32>):
    %zero = lax.constant dense<0> : tensor<i32>
    %p = lax.gt %k, %zero : (tensor<i32>, tensor<i32>) -> tensor<i1>
    lax.yield %p : tensor<i1>
  } do {
  ^bb0(%c: tensor<f32>, %k: tensor<i32>, %acc: tensor<4xf32>):
    %one = lax.constant dense<1> : tensor<i32>
    %k2 = lax.sub %k, %one : tensor<i32>
    %c2 = lax.mul %c, %x : tensor<f32>
    %e = lax.exp %acc : tensor<4xf32>
    %acc2 = lax.add %acc, %e : tensor<4xf32>
    lax.yield %c2, %k2, %acc2 : tensor<f32>, tensor<i32>, tensor<4xf32>
  }
  func.return %r#0 : tensor<f32>
}
// CHECK-NEXT:    %r, %r_1 = lax.while (%x, %n) : (tensor<f32>, tensor<i32>) cond {
// CHECK-NEXT:    ^bb{{[0-9]+}}(%c: tensor<f32>, %k: tensor<i32>):
// CHECK:         } do {
// CHECK-NEXT:    ^bb{{[0-9]+}}(%c_1: tensor<f32>, %k_1: tensor<i32>):
// CHECK-NOT:       lax.exp
// CHECK:           lax.yield %c2, %k2 : tensor<f32>, tensor<i32>
// CHECK-NEXT:    }
// CHECK-NEXT:    func.return %r : tensor<f32>

// Two carried values that only feed each other are dead together; one that feeds a live
// value stays even though its own result is unused.
// CHECK-LABEL: func.func @scan_dead_cycle
func.func @scan_dead_cycle(%c0: tensor<f32>, %u0: tensor<f32>, %v0: tensor<f32>, %w0: tensor<f32>) -> tensor<f32> {
  %r:4 = lax.scan (%c0, %u0, %v0, %w0) xs () length 4 reverse false unroll 1 : (tensor<f32>, tensor<f32>, tensor<f32>, tensor<f32>) -> (tensor<f32>, tensor<f32>, tensor<f32>, tensor<f32>) {
  ^bb0(%c: tensor<f32>, %u: tensor<f32>, %v: tensor<f32>, %w: tensor<f32>):
    %u2 = lax.sin %v : tensor<f32>
    %v2 = lax.cos %u : tensor<f32>
    %w2 = lax.exp %w : tensor<f32>
    %c2 = lax.add %c, %w : tensor<f32>
    lax.yield %c2, %u2, %v2, %w2 : tensor<f32>, tensor<f32>, tensor<f32>, tensor<f32>
  }
  func.return %r#0 : tensor<f32>
}
// CHECK-NEXT:    %r, %r_1 = lax.scan (%c0, %w0) xs () length 4 reverse false unroll 1 : (tensor<f32>, tensor<f32>) -> (tensor<f32>, tensor<f32>) {
// CHECK-NEXT:    ^bb{{[0-9]+}}(%c: tensor<f32>, %w: tensor<f32>):
// CHECK-NEXT:      %w2 = lax.exp %w : tensor<f32>
// CHECK-NEXT:      %c2 = lax.add %c, %w : tensor<f32>
// CHECK-NEXT:      lax.yield %c2, %w2 : tensor<f32>, tensor<f32>
// CHECK-NEXT:    }
// CHECK-NEXT:    func.return %r : tensor<f32>

// Unused ys go, and with them an xs nothing reads any more; a used ys keeps its xs.
// CHECK-LABEL: func.func @scan_dead_ys
func.func @scan_dead_ys(%c0: tensor<f32>, %xs: tensor<5x3xf32>, %zs: tensor<5xf32>) -> (tensor<f32>, tensor<5xf32>) {
  %r:3 = lax.scan (%c0) xs (%xs, %zs) length 5 reverse true unroll 2 : (tensor<f32>, tensor<5x3xf32>, tensor<5xf32>) -> (tensor<f32>, tensor<5x3xf32>, tensor<5xf32>) {
  ^bb0(%c: tensor<f32>, %x: tensor<3xf32>, %z: tensor<f32>):
    %y = lax.neg %x : tensor<3xf32>
    %c2 = lax.add %c, %z : tensor<f32>
    %z2 = lax.mul %z, %c : tensor<f32>
    lax.yield %c2, %y, %z2 : tensor<f32>, tensor<3xf32>, tensor<f32>
  }
  func.return %r#0, %r#2 : tensor<f32>, tensor<5xf32>
}
// CHECK-NEXT:    %r, %r_1 = lax.scan (%c0) xs (%zs) length 5 reverse true unroll 2 : (tensor<f32>, tensor<5xf32>) -> (tensor<f32>, tensor<5xf32>) {
// CHECK-NEXT:    ^bb{{[0-9]+}}(%c: tensor<f32>, %z: tensor<f32>):
// CHECK-NEXT:      %c2 = lax.add %c, %z : tensor<f32>
// CHECK-NEXT:      %z2 = lax.mul %c, %z : tensor<f32>
// CHECK-NEXT:      lax.yield %c2, %z2 : tensor<f32>, tensor<f32>
// CHECK-NEXT:    }
// CHECK-NEXT:    func.return %r, %r_1 : tensor<f32>, tensor<5xf32>

// A carried value the body yields unchanged is its init everywhere, even where its result
// is used after the loop.
// CHECK-LABEL: func.func @pass_through
func.func @pass_through(%c0: tensor<4xf32>, %m: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
  %r:2 = lax.scan (%c0, %m) xs () length 3 reverse false unroll 1 : (tensor<4xf32>, tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
  ^bb0(%c: tensor<4xf32>, %k: tensor<4xf32>):
    %c2 = lax.mul %c, %k : tensor<4xf32>
    lax.yield %c2, %k : tensor<4xf32>, tensor<4xf32>
  }
  func.return %r#0, %r#1 : tensor<4xf32>, tensor<4xf32>
}
// CHECK-NEXT:    %r = lax.scan (%c0) xs () length 3 reverse false unroll 1 : tensor<4xf32> -> tensor<4xf32> {
// CHECK-NEXT:    ^bb{{[0-9]+}}(%c: tensor<4xf32>):
// CHECK-NEXT:      %c2 = lax.mul %c, %m : tensor<4xf32>
// CHECK-NEXT:      lax.yield %c2 : tensor<4xf32>
// CHECK-NEXT:    }
// CHECK-NEXT:    func.return %r, %m : tensor<4xf32>, tensor<4xf32>

// A carried value read by an op without `Pure` (maybe effectful) stays.
// CHECK-LABEL: func.func @effects_keep
func.func @effects_keep(%c0: tensor<4xf32>, %d0: tensor<4xf32>) -> tensor<4xf32> {
  %r:2 = lax.scan (%c0, %d0) xs () length 3 reverse false unroll 1 : (tensor<4xf32>, tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
  ^bb0(%c: tensor<4xf32>, %d: tensor<4xf32>):
    %g = lax.generic "erf_inv" %d params {} : tensor<4xf32>
    %c2 = lax.exp %c : tensor<4xf32>
    lax.yield %c2, %g : tensor<4xf32>, tensor<4xf32>
  }
  func.return %r#0 : tensor<4xf32>
}
// CHECK-NEXT:    %r, %r_1 = lax.scan (%c0, %d0)
// CHECK:           %g = lax.generic "erf_inv" %d

// A constant index picks its branch, clamped into range as XLA does (7 -> last, -3 -> first);
// a bool index picks branch 1 for true.
// CHECK-LABEL: func.func @cond_constant_index
func.func @cond_constant_index(%x: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) {
  %i = lax.constant dense<7> : tensor<i32>
  %a = lax.cond %i : tensor<i32> -> tensor<4xf32> {
    %n = lax.neg %x : tensor<4xf32>
    lax.yield %n : tensor<4xf32>
  }, {
    %e = lax.exp %x : tensor<4xf32>
    lax.yield %e : tensor<4xf32>
  }
  %j = lax.constant dense<-3> : tensor<i32>
  %b = lax.cond %j : tensor<i32> -> tensor<4xf32> {
    %s = lax.sin %x : tensor<4xf32>
    lax.yield %s : tensor<4xf32>
  }, {
    lax.yield %x : tensor<4xf32>
  }
  %t = lax.constant dense<true> : tensor<i1>
  %c = lax.cond %t : tensor<i1> -> tensor<4xf32> {
    lax.yield %x : tensor<4xf32>
  }, {
    %q = lax.tanh %x : tensor<4xf32>
    lax.yield %q : tensor<4xf32>
  }
  func.return %a, %b, %c : tensor<4xf32>, tensor<4xf32>, tensor<4xf32>
}
// CHECK-NEXT:    %e = lax.exp %x : tensor<4xf32>
// CHECK-NEXT:    %s = lax.sin %x : tensor<4xf32>
// CHECK-NEXT:    %q = lax.tanh %x : tensor<4xf32>
// CHECK-NEXT:    func.return %e, %s, %q

// Identical branches (or just one) need no index; different ones stay.
// CHECK-LABEL: func.func @cond_same_branches
func.func @cond_same_branches(%i: tensor<i32>, %x: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) {
  %a = lax.cond %i : tensor<i32> -> tensor<4xf32> {
    %n = lax.neg %x : tensor<4xf32>
    lax.yield %n : tensor<4xf32>
  }, {
    %n2 = lax.neg %x : tensor<4xf32>
    lax.yield %n2 : tensor<4xf32>
  }
  %b = lax.cond %i : tensor<i32> -> tensor<4xf32> {
    %s = lax.sin %x : tensor<4xf32>
    lax.yield %s : tensor<4xf32>
  }
  %c = lax.cond %i : tensor<i32> -> tensor<4xf32> {
    %q = lax.tanh %x : tensor<4xf32>
    lax.yield %q : tensor<4xf32>
  }, {
    %q2 = lax.tanh %a : tensor<4xf32>
    lax.yield %q2 : tensor<4xf32>
  }
  func.return %a, %b, %c : tensor<4xf32>, tensor<4xf32>, tensor<4xf32>
}
// CHECK-NEXT:    %n = lax.neg %x : tensor<4xf32>
// CHECK-NEXT:    %s = lax.sin %x : tensor<4xf32>
// CHECK-NEXT:    %c = lax.cond %i
// CHECK:         func.return %n, %s, %c

// A while whose cond is false on its constant inits never runs; true at entry, or not
// constant, it stays.
// CHECK-LABEL: func.func @while_false_at_entry
func.func @while_false_at_entry(%x: tensor<f32>) -> (tensor<f32>, tensor<f32>) {
  %n = lax.constant dense<0> : tensor<i32>
  %r:2 = lax.while (%x, %n) : (tensor<f32>, tensor<i32>) cond {
  ^bb0(%c: tensor<f32>, %k: tensor<i32>):
    %zero = lax.constant dense<0> : tensor<i32>
    %p = lax.gt %k, %zero : (tensor<i32>, tensor<i32>) -> tensor<i1>
    lax.yield %p : tensor<i1>
  } do {
  ^bb0(%c: tensor<f32>, %k: tensor<i32>):
    %one = lax.constant dense<1> : tensor<i32>
    %k2 = lax.sub %k, %one : tensor<i32>
    %c2 = lax.mul %c, %x : tensor<f32>
    lax.yield %c2, %k2 : tensor<f32>, tensor<i32>
  }
  %m = lax.constant dense<3> : tensor<i32>
  %s:2 = lax.while (%x, %m) : (tensor<f32>, tensor<i32>) cond {
  ^bb0(%c: tensor<f32>, %k: tensor<i32>):
    %zero = lax.constant dense<0> : tensor<i32>
    %p = lax.gt %k, %zero : (tensor<i32>, tensor<i32>) -> tensor<i1>
    lax.yield %p : tensor<i1>
  } do {
  ^bb0(%c: tensor<f32>, %k: tensor<i32>):
    %one = lax.constant dense<1> : tensor<i32>
    %k2 = lax.sub %k, %one : tensor<i32>
    %c2 = lax.mul %c, %x : tensor<f32>
    lax.yield %c2, %k2 : tensor<f32>, tensor<i32>
  }
  func.return %r#0, %s#0 : tensor<f32>, tensor<f32>
}
// CHECK-NOT:     lax.while (%x, %n)
// CHECK:         %s, %s_1 = lax.while (%x, %m)
// CHECK:         func.return %x, %s : tensor<f32>, tensor<f32>

// Results of a cond that nothing uses are dropped from every branch; what computed them
// goes with them. An op without `Pure` in a branch stays.
// CHECK-LABEL: func.func @cond_dead_results
func.func @cond_dead_results(%i: tensor<i32>, %x: tensor<4xf32>) -> tensor<4xf32> {
  %a:2 = lax.cond %i : tensor<i32> -> (tensor<4xf32>, tensor<4xf32>) {
    %e = lax.exp %x : tensor<4xf32>
    %s = lax.sin %x : tensor<4xf32>
    lax.yield %e, %s : tensor<4xf32>, tensor<4xf32>
  }, {
    %g = lax.generic "erf_inv" %x params {} : tensor<4xf32>
    lax.yield %x, %g : tensor<4xf32>, tensor<4xf32>
  }
  func.return %a#0 : tensor<4xf32>
}
// CHECK-NEXT:    %a = lax.cond %i : tensor<i32> -> tensor<4xf32> {
// CHECK-NEXT:      %e = lax.exp %x : tensor<4xf32>
// CHECK-NEXT:      lax.yield %e : tensor<4xf32>
// CHECK-NEXT:    }, {
// CHECK-NEXT:      %g = lax.generic "erf_inv" %x
// CHECK-NEXT:      lax.yield %x : tensor<4xf32>
// CHECK-NEXT:    }
// CHECK-NEXT:    func.return %a : tensor<4xf32>

// A scan of at least one step that sets a carried value to something from above ends with
// that value; a scan of no step ends with its init (and, unused, goes).
// CHECK-LABEL: func.func @scan_invariant_yield
func.func @scan_invariant_yield(%c0: tensor<4xf32>, %d0: tensor<4xf32>, %m: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) {
  %r:2 = lax.scan (%c0, %d0) xs () length 3 reverse false unroll 1 : (tensor<4xf32>, tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
  ^bb0(%c: tensor<4xf32>, %d: tensor<4xf32>):
    %c2 = lax.mul %c, %d : tensor<4xf32>
    lax.yield %c2, %m : tensor<4xf32>, tensor<4xf32>
  }
  %z = lax.scan (%d0) xs () length 0 reverse false unroll 1 : (tensor<4xf32>) -> (tensor<4xf32>) {
  ^bb0(%e: tensor<4xf32>):
    lax.yield %m : tensor<4xf32>
  }
  func.return %r#0, %r#1, %z : tensor<4xf32>, tensor<4xf32>, tensor<4xf32>
}
// CHECK-NEXT:    %r, %r_1 = lax.scan (%c0, %d0) xs () length 3
// CHECK-NOT:     length 0
// CHECK:         func.return %r, %m, %d0
