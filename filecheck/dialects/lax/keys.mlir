// RUN: tiers-opt %s | filecheck %s
// RUN: tiers-opt %s | tiers-opt | filecheck %s
// RUN: tiers-opt %s --print-op-generic | tiers-opt | filecheck %s
// RUN: tiers-opt %s -p canonicalize | filecheck %s --check-prefix=OPT
// RUN: tiers-opt %s -p O2 | filecheck %s --check-prefix=OPT
// RUN: tiers-opt %s -t stablehlo | filecheck %s --check-prefix=HLO
// RUN: tiers-run %s -i iota | filecheck %s --check-prefix=OUT

// Typed PRNG keys (`jax.random.key`): `!lax.key<"impl">` is the element type of a key array,
// `impl` a PRNG implementation JAX registers. `lax.random_unwrap` gives a key array's data
// (its shape, then the implementation's key shape, of ui32), `lax.random_wrap` makes keys of
// data. StableHLO and tiers-run hold keys as their data.

// CHECK-LABEL: func.func @main(%k: tensor<2x!lax.key<"threefry2x32">>) -> (tensor<2x!lax.key<"threefry2x32">>, tensor<2x2xui32>) {
// HLO-LABEL: func.func @main(%arg1: tensor<2x2xui32> loc("k")) -> (tensor<2x2xui32>, tensor<2x2xui32>) {
func.func @main(%k: tensor<2x!lax.key<"threefry2x32">>) -> (tensor<2x!lax.key<"threefry2x32">>, tensor<2x2xui32>) {
  // CHECK-NEXT: %d = lax.random_unwrap %k : tensor<2x!lax.key<"threefry2x32">> -> tensor<2x2xui32>
  %d = lax.random_unwrap %k : tensor<2x!lax.key<"threefry2x32">> -> tensor<2x2xui32>
  %one = lax.constant dense<1> : tensor<2x2xui32>
  // HLO: "stablehlo.add"(%arg1, %{{.*}}) : (tensor<2x2xui32>, tensor<2x2xui32>) -> (tensor<2x2xui32>)
  %e = lax.add %d, %one : tensor<2x2xui32>
  // CHECK: %k2 = lax.random_wrap %e : tensor<2x2xui32> -> tensor<2x!lax.key<"threefry2x32">>
  %k2 = lax.random_wrap %e : tensor<2x2xui32> -> tensor<2x!lax.key<"threefry2x32">>
  // CHECK-NEXT: func.return %k2, %d : tensor<2x!lax.key<"threefry2x32">>, tensor<2x2xui32>
  // HLO: "func.return"(%{{.*}}, %arg1) : (tensor<2x2xui32>, tensor<2x2xui32>) -> ()
  func.return %k2, %d : tensor<2x!lax.key<"threefry2x32">>, tensor<2x2xui32>
}
// The key data, then the data: tiers-run takes and gives keys as data.
// OUT:      array([[1, 2],
// OUT-NEXT:        [3, 4]], dtype=uint32)
// OUT-NEXT: array([[0, 1],
// OUT-NEXT:        [2, 3]], dtype=uint32)

// Scalar keys of another implementation (rbg: four words a key); a key passed through.
// CHECK-LABEL: func.func @rbg(%k: tensor<!lax.key<"rbg">>) -> tensor<!lax.key<"rbg">> {
// OPT-LABEL: func.func @rbg(%k: tensor<!lax.key<"rbg">>) -> tensor<!lax.key<"rbg">> {
func.func @rbg(%k: tensor<!lax.key<"rbg">>) -> tensor<!lax.key<"rbg">> {
  // CHECK-NEXT: %d = lax.random_unwrap %k : tensor<!lax.key<"rbg">> -> tensor<4xui32>
  %d = lax.random_unwrap %k : tensor<!lax.key<"rbg">> -> tensor<4xui32>
  // CHECK-NEXT: %k2 = lax.random_wrap %d : tensor<4xui32> -> tensor<!lax.key<"rbg">>
  // Canonicalization: a key unwrapped and wrapped back is the key (and data wrapped and
  // unwrapped, the data).
  // OPT-NEXT: func.return %k : tensor<!lax.key<"rbg">>
  %k2 = lax.random_wrap %d : tensor<4xui32> -> tensor<!lax.key<"rbg">>
  %dead = lax.random_unwrap %k2 : tensor<!lax.key<"rbg">> -> tensor<4xui32>
  // CHECK: func.return %k2 : tensor<!lax.key<"rbg">>
  func.return %k2 : tensor<!lax.key<"rbg">>
}

// CHECK-LABEL: func.func @data_round_trip
// OPT-LABEL: func.func @data_round_trip
func.func @data_round_trip(%d: tensor<3x2xui32>) -> tensor<3x2xui32> {
  %k = lax.random_wrap %d : tensor<3x2xui32> -> tensor<3x!lax.key<"threefry2x32">>
  %e = lax.random_unwrap %k : tensor<3x!lax.key<"threefry2x32">> -> tensor<3x2xui32>
  // OPT-NEXT: func.return %d : tensor<3x2xui32>
  func.return %e : tensor<3x2xui32>
}

// Keys of one implementation are not keys of another: their data is not rewrapped.
// OPT-LABEL: func.func @other_impl
func.func @other_impl(%k: tensor<!lax.key<"rbg">>) -> tensor<!lax.key<"unsafe_rbg">> {
  // OPT-NEXT: lax.random_unwrap
  // OPT-NEXT: lax.random_wrap
  %d = lax.random_unwrap %k : tensor<!lax.key<"rbg">> -> tensor<4xui32>
  %u = lax.random_wrap %d : tensor<4xui32> -> tensor<!lax.key<"unsafe_rbg">>
  func.return %u : tensor<!lax.key<"unsafe_rbg">>
}
