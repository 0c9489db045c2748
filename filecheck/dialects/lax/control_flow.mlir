// RUN: tiers-opt %s | filecheck %s
// RUN: tiers-opt %s | tiers-opt | filecheck %s
// RUN: tiers-opt %s --print-op-generic | tiers-opt | filecheck %s
// RUN: tiers-opt %s --print-op-generic | filecheck %s --check-prefix=GENERIC

// Control flow: regions read values from above (%x inside the branches and bodies), block
// arguments are the loop-carried values, and every region ends with lax.yield.

func.func @cond(%i: tensor<i32>, %x: tensor<4xf32>) -> tensor<4xf32> {
  %r = lax.cond %i : tensor<i32> -> tensor<4xf32> {
    %a = lax.neg %x : tensor<4xf32>
    lax.yield %a : tensor<4xf32>
  }, {
    lax.yield %x : tensor<4xf32>
  }, {
    %b = lax.exp %x : tensor<4xf32>
    lax.yield %b : tensor<4xf32>
  }
  func.return %r : tensor<4xf32>
}
// CHECK-LABEL: func.func @cond
// CHECK-NEXT:    %r = lax.cond %i : tensor<i32> -> tensor<4xf32> {
// CHECK-NEXT:      %a = lax.neg %x : tensor<4xf32>
// CHECK-NEXT:      lax.yield %a : tensor<4xf32>
// CHECK-NEXT:    }, {
// CHECK-NEXT:      lax.yield %x : tensor<4xf32>
// CHECK-NEXT:    }, {
// CHECK-NEXT:      %b = lax.exp %x : tensor<4xf32>
// CHECK-NEXT:      lax.yield %b : tensor<4xf32>
// CHECK-NEXT:    }
// GENERIC:       %r = "lax.cond"(%i) ({
// GENERIC:       }) : (tensor<i32>) -> tensor<4xf32>

func.func @cond_bool_no_results(%p: tensor<i1>) {
  lax.cond %p : tensor<i1> -> () {
    lax.yield
  }, {
    lax.yield
  }
  func.return
}
// CHECK-LABEL: func.func @cond_bool_no_results
// CHECK-NEXT:    lax.cond %p : tensor<i1> -> () {
// CHECK-NEXT:      lax.yield
// CHECK-NEXT:    }, {
// CHECK-NEXT:      lax.yield
// CHECK-NEXT:    }

func.func @while(%x: tensor<f32>, %n: tensor<i32>) -> (tensor<f32>, tensor<i32>) {
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
  func.return %r#0, %r#1 : tensor<f32>, tensor<i32>
}
// CHECK-LABEL: func.func @while
// CHECK-NEXT:    %r, %r_1 = lax.while (%x, %n) : (tensor<f32>, tensor<i32>) cond {
// CHECK-NEXT:    ^bb0(%c: tensor<f32>, %k: tensor<i32>):
// CHECK:           lax.yield %p : tensor<i1>
// CHECK-NEXT:    } do {
// CHECK-NEXT:    ^bb0(%{{.*}}: tensor<f32>, %{{.*}}: tensor<i32>):
// CHECK:           %c2 = lax.mul %{{.*}}, %x : tensor<f32>
// CHECK-NEXT:      lax.yield %c2, %k2 : tensor<f32>, tensor<i32>
// CHECK-NEXT:    }
// GENERIC:       "lax.while"(%x, %n) ({
// GENERIC:       }) : (tensor<f32>, tensor<i32>) -> (tensor<f32>, tensor<i32>)

func.func @scan(%c0: tensor<f32>, %xs: tensor<5x3xf32>) -> (tensor<f32>, tensor<5xf32>) {
  %r:2 = lax.scan (%c0) xs (%xs) length 5 reverse true unroll 2 : (tensor<f32>, tensor<5x3xf32>) -> (tensor<f32>, tensor<5xf32>) {
  ^bb0(%c: tensor<f32>, %row: tensor<3xf32>):
    %s = lax.reduce_sum %row axes [0] : tensor<3xf32> -> tensor<f32>
    %c2 = lax.add %c, %s : tensor<f32>
    lax.yield %c2, %s : tensor<f32>, tensor<f32>
  }
  func.return %r#0, %r#1 : tensor<f32>, tensor<5xf32>
}
// CHECK-LABEL: func.func @scan
// CHECK-NEXT:    %r, %r_1 = lax.scan (%c0) xs (%xs) length 5 reverse true unroll 2 : (tensor<f32>, tensor<5x3xf32>) -> (tensor<f32>, tensor<5xf32>) {
// CHECK-NEXT:    ^bb0(%c: tensor<f32>, %row: tensor<3xf32>):
// CHECK:           lax.yield %c2, %s : tensor<f32>, tensor<f32>
// CHECK-NEXT:    }
// GENERIC:       "lax.scan"(%c0, %xs) <{length = 5 : i64, reverse = true, unroll = 2 : i64, operandSegmentSizes = array<i32: 1, 1>}> ({

// A fori_loop with a static trip count: a scan with no xs and no ys.
func.func @scan_no_xs(%x: tensor<f32>) -> tensor<f32> {
  %r = lax.scan (%x) xs () length 3 reverse false unroll 1 : tensor<f32> -> tensor<f32> {
  ^bb0(%c: tensor<f32>):
    %c2 = lax.mul %c, %x : tensor<f32>
    lax.yield %c2 : tensor<f32>
  }
  func.return %r : tensor<f32>
}
// CHECK-LABEL: func.func @scan_no_xs
// CHECK-NEXT:    %r = lax.scan (%x) xs () length 3 reverse false unroll 1 : tensor<f32> -> tensor<f32> {

// Nesting: a scan inside a while inside a cond.
func.func @nested(%i: tensor<i32>, %x: tensor<f32>, %xs: tensor<4xf32>) -> tensor<f32> {
  %r = lax.cond %i : tensor<i32> -> tensor<f32> {
    lax.yield %x : tensor<f32>
  }, {
    %w = lax.while (%x) : tensor<f32> cond {
    ^bb0(%c: tensor<f32>):
      %lim = lax.constant dense<1.000000e+02> : tensor<f32>
      %p = lax.lt %c, %lim : (tensor<f32>, tensor<f32>) -> tensor<i1>
      lax.yield %p : tensor<i1>
    } do {
    ^bb0(%c: tensor<f32>):
      %s = lax.scan (%c) xs (%xs) length 4 reverse false unroll 1 : (tensor<f32>, tensor<4xf32>) -> tensor<f32> {
      ^bb0(%acc: tensor<f32>, %e: tensor<f32>):
        %acc2 = lax.add %acc, %e : tensor<f32>
        lax.yield %acc2 : tensor<f32>
      }
      lax.yield %s : tensor<f32>
    }
    lax.yield %w : tensor<f32>
  }
  func.return %r : tensor<f32>
}
// CHECK-LABEL: func.func @nested
// CHECK:         %w = lax.while (%x) : tensor<f32> cond {
// CHECK:           %s = lax.scan (%{{.*}}) xs (%xs) length 4 reverse false unroll 1 : (tensor<f32>, tensor<4xf32>) -> tensor<f32> {
// CHECK:             lax.yield %acc2 : tensor<f32>
// CHECK:           lax.yield %s : tensor<f32>
// CHECK:         lax.yield %w : tensor<f32>
