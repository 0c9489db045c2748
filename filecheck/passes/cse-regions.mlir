// RUN: tiers-opt %s -p cse | filecheck %s

// xDSL's `cse` inside the regions of `lax.cond`, `lax.while` and `lax.scan`: an op in a
// region is replaced by an equal op that dominates it (one above the region, or earlier in
// the same block), never by one in a sibling branch or inside another region, and a value
// defined in a region is never used outside it. Whole loops with equal operands and bodies
// merge: they are deterministic and side-effect free (`RecursiveMemoryEffect`).

// CHECK-LABEL: func.func @cond_branches
func.func @cond_branches(%i: tensor<i32>, %x: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) {
  %e0 = lax.exp %x : tensor<4xf32>
  %a = lax.cond %i : tensor<i32> -> tensor<4xf32> {
    %e = lax.exp %x : tensor<4xf32>
    %s = lax.sin %x : tensor<4xf32>
    %t = lax.add %e, %s : tensor<4xf32>
    lax.yield %t : tensor<4xf32>
  }, {
    %s2 = lax.sin %x : tensor<4xf32>
    lax.yield %s2 : tensor<4xf32>
  }
  %s3 = lax.sin %x : tensor<4xf32>
  func.return %a, %s3, %e0 : tensor<4xf32>, tensor<4xf32>, tensor<4xf32>
}
// CHECK-NEXT:    %e0 = lax.exp %x : tensor<4xf32>
// CHECK-NEXT:    %a = lax.cond %i : tensor<i32> -> tensor<4xf32> {
// CHECK-NEXT:      %s = lax.sin %x : tensor<4xf32>
// CHECK-NEXT:      %t = lax.add %e0, %s : tensor<4xf32>
// CHECK-NEXT:      lax.yield %t : tensor<4xf32>
// CHECK-NEXT:    }, {
// CHECK-NEXT:      %s2 = lax.sin %x : tensor<4xf32>
// CHECK-NEXT:      lax.yield %s2 : tensor<4xf32>
// CHECK-NEXT:    }
// CHECK-NEXT:    %s3 = lax.sin %x : tensor<4xf32>
// CHECK-NEXT:    func.return %a, %s3, %e0

// Inside a body, equal ops on the carried value merge; the same op on the init outside
// does not (it reads another value); two equal loops merge.
// CHECK-LABEL: func.func @scan_bodies
func.func @scan_bodies(%c0: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) {
  %r = lax.scan (%c0) xs () length 3 reverse false unroll 1 : (tensor<4xf32>) -> (tensor<4xf32>) {
  ^bb0(%c: tensor<4xf32>):
    %u = lax.tanh %c : tensor<4xf32>
    %v = lax.tanh %c : tensor<4xf32>
    %w = lax.add %u, %v : tensor<4xf32>
    lax.yield %w : tensor<4xf32>
  }
  %r2 = lax.scan (%c0) xs () length 3 reverse false unroll 1 : (tensor<4xf32>) -> (tensor<4xf32>) {
  ^bb0(%c: tensor<4xf32>):
    %u = lax.tanh %c : tensor<4xf32>
    %v = lax.tanh %c : tensor<4xf32>
    %w = lax.add %u, %v : tensor<4xf32>
    lax.yield %w : tensor<4xf32>
  }
  %tt = lax.tanh %c0 : tensor<4xf32>
  func.return %r, %r2, %tt : tensor<4xf32>, tensor<4xf32>, tensor<4xf32>
}
// CHECK-NEXT:    %r = lax.scan (%c0)
// CHECK-NEXT:    ^bb{{[0-9]+}}(%c: tensor<4xf32>):
// CHECK-NEXT:      %u = lax.tanh %c : tensor<4xf32>
// CHECK-NEXT:      %w = lax.add %u, %u : tensor<4xf32>
// CHECK-NEXT:      lax.yield %w : tensor<4xf32>
// CHECK-NEXT:    }
// CHECK-NEXT:    %tt = lax.tanh %c0 : tensor<4xf32>
// CHECK-NEXT:    func.return %r, %r, %tt

// The cond and body regions of a while are siblings: equal ops in each stay apart; a loop
// with a different trip count does not merge with another.
// CHECK-LABEL: func.func @while_regions
func.func @while_regions(%x: tensor<f32>, %n: tensor<i32>) -> (tensor<f32>, tensor<f32>) {
  %r:2 = lax.while (%x, %n) : (tensor<f32>, tensor<i32>) cond {
  ^bb0(%c: tensor<f32>, %k: tensor<i32>):
    %zero = lax.constant dense<0> : tensor<i32>
    %p = lax.gt %k, %zero : (tensor<i32>, tensor<i32>) -> tensor<i1>
    lax.yield %p : tensor<i1>
  } do {
  ^bb0(%c: tensor<f32>, %k: tensor<i32>):
    %zero1 = lax.constant dense<0> : tensor<i32>
    %one = lax.constant dense<1> : tensor<i32>
    %k2 = lax.sub %k, %one : tensor<i32>
    %k3 = lax.max %k2, %zero1 : tensor<i32>
    %c2 = lax.mul %c, %x : tensor<f32>
    lax.yield %c2, %k3 : tensor<f32>, tensor<i32>
  }
  %s = lax.scan (%x) xs () length 3 reverse false unroll 1 : (tensor<f32>) -> (tensor<f32>) {
  ^bb0(%c: tensor<f32>):
    %c2 = lax.mul %c, %x : tensor<f32>
    lax.yield %c2 : tensor<f32>
  }
  %s2 = lax.scan (%x) xs () length 4 reverse false unroll 1 : (tensor<f32>) -> (tensor<f32>) {
  ^bb0(%c: tensor<f32>):
    %c2 = lax.mul %c, %x : tensor<f32>
    lax.yield %c2 : tensor<f32>
  }
  %t = lax.add %s, %s2 : tensor<f32>
  func.return %r#0, %t : tensor<f32>, tensor<f32>
}
// CHECK-NEXT:    %r, %r_1 = lax.while (%x, %n)
// CHECK-NEXT:    ^bb{{[0-9]+}}(%c: tensor<f32>, %k: tensor<i32>):
// CHECK-NEXT:      %zero = lax.constant dense<0> : tensor<i32>
// CHECK-NEXT:      %p = lax.gt %k, %zero
// CHECK-NEXT:      lax.yield %p : tensor<i1>
// CHECK-NEXT:    } do {
// CHECK-NEXT:    ^bb{{[0-9]+}}(%c_1: tensor<f32>, %k_1: tensor<i32>):
// CHECK-NEXT:      %zero1 = lax.constant dense<0> : tensor<i32>
// CHECK:         %s = lax.scan (%x) xs () length 3
// CHECK:         %s2 = lax.scan (%x) xs () length 4
// CHECK:         %t = lax.add %s, %s2
