// RUN: tiers-opt %s -p O1 -t stablehlo | filecheck %s
// RUN: not tiers-opt %s -t "stablehlo{x=1}" 2>&1 | filecheck %s --check-prefix=OPTS

// `-t stablehlo` prints what the JAX target hands XLA: @main public, what it calls private,
// one StableHLO op per tiers op (generic form), the tiers op's location on each (`loc(unknown)`
// where it has none), each parameter located by its name (`loc("x")`, as JAX names them).

func.func @main(%x: tensor<3xf32>, %y: tensor<3xf32>) -> (tensor<3xf32>, tensor<3xi1>) {
  %0 = lax.mul %x, %y : tensor<3xf32> loc("model.py":7:11)
  %1 = func.call @helper(%0) : (tensor<3xf32>) -> tensor<3xf32> loc("model.py":8:4)
  %2 = lax.lt %1, %y : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xi1> loc("model.py":9:4)
  func.return %1, %2 : tensor<3xf32>, tensor<3xi1>
}
func.func private @helper(%x: tensor<3xf32>) -> tensor<3xf32> {
  %0 = lax.sin %x : tensor<3xf32> loc("lib.py":2:8)
  func.return %0 : tensor<3xf32>
}
// CHECK:      module {
// CHECK-NEXT:   func.func @main(%[[X:[a-z0-9]+]]: tensor<3xf32> loc("x"), %[[Y:[a-z0-9]+]]: tensor<3xf32> loc("y")) -> (tensor<3xf32>, tensor<3xi1>) {
// CHECK-NEXT:     %[[M:.*]] = "stablehlo.multiply"(%[[X]], %[[Y]]) : (tensor<3xf32>, tensor<3xf32>) -> (tensor<3xf32>) loc("model.py":7:11)
// CHECK-NEXT:     %[[C:.*]] = "func.call"(%[[M]]) {callee = @[[HELPER:.*]]} : (tensor<3xf32>) -> (tensor<3xf32>) loc("model.py":8:4)
// CHECK-NEXT:     %[[L:.*]] = "stablehlo.compare"(%[[C]], %[[Y]]) {comparison_direction = #stablehlo<comparison_direction LT>, compare_type = #stablehlo<comparison_type FLOAT>}
// CHECK-SAME:       loc("model.py":9:4)
// CHECK-NEXT:     "func.return"(%[[C]], %[[L]]) : (tensor<3xf32>, tensor<3xi1>) -> () loc(unknown)
// CHECK-NEXT:   } loc(unknown)
// CHECK:        func.func private @[[HELPER]](%[[A:[a-z0-9]+]]: tensor<3xf32> loc("x")) -> (tensor<3xf32>) {
// CHECK-NEXT:     "stablehlo.sine"(%[[A]]) : (tensor<3xf32>) -> (tensor<3xf32>) loc("lib.py":2:8)

// OPTS: tiers-opt: error: target 'stablehlo' takes no options
