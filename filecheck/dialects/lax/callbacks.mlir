// RUN: python %S/Inputs/print_callbacks.py | filecheck %s
// RUN: tiers-opt %s --split-input-file --parsing-diagnostics | filecheck %s --check-prefix=PARSE

// Host callbacks (dialects/lax_effects.py) print with their callback's name and `ordered`;
// the Python function they hold has no text, so they come from a traced program
// (Inputs/print_callbacks.py) and never parse back.

// CHECK-LABEL: // imported
// CHECK:       lax.debug_print "x = {x}" %x ordered true : tensor<4xf32> -> ()
// CHECK-NEXT:  lax.debug_callback "print" %x ordered false : tensor<4xf32> -> ()
// CHECK-NEXT:  %0 = lax.pure_callback "sin" %x : tensor<4xf32>
// CHECK-NEXT:  %1 = lax.pure_callback "cos" %x : tensor<4xf32>
// CHECK:       lax.scan
// CHECK:         lax.debug_print "step {}" %{{.*}} ordered false : tensor<i32> -> ()
// CHECK-NEXT:    %{{.*}} = lax.cos %x : tensor<4xf32>
// CHECK:         lax.io_callback "log_value" %{{.*}} ordered true : tensor<4xf32>

// The default pipeline drops the unused pure_callback (as JAX does) and hoists `cos` out of
// the loop, but keeps every other callback, in order, the loop's in the loop.
// CHECK-LABEL: // optimized
// CHECK:       lax.debug_print "x = {x}" %x ordered true : tensor<4xf32> -> ()
// CHECK-NEXT:  lax.debug_callback "print" %x ordered false : tensor<4xf32> -> ()
// CHECK-NEXT:  %0 = lax.pure_callback "sin" %x : tensor<4xf32>
// CHECK-NOT:   lax.pure_callback
// CHECK:       lax.cos %x
// CHECK:       lax.scan
// CHECK:         lax.debug_print "step {}"
// CHECK:         lax.io_callback "log_value" %{{.*}} ordered true : tensor<4xf32>
// CHECK:         lax.yield

// CHECK-LABEL: // generic
// CHECK:       "lax.pure_callback"(%x) <{callback = #lax.callback<"tanh">}> : (tensor<2xf32>) -> tensor<2xf32>

func.func @op_form(%x: tensor<3xf32>) -> tensor<3xf32> {
  lax.debug_print "x = {}" %x ordered false : tensor<3xf32> -> ()
  func.return %x : tensor<3xf32>
}
// PARSE:      callbacks.mlir:35:19
// PARSE:      'lax.debug_print': the Python callback 'x = {}' cannot be read from IR text

// -----

func.func @generic_form(%x: tensor<3xf32>) -> tensor<3xf32> {
  %0 = "lax.pure_callback"(%x) <{callback = #lax.callback<"my_fn">}> : (tensor<3xf32>) -> tensor<3xf32>
  func.return %0 : tensor<3xf32>
}
// PARSE:      callbacks.mlir:44:59
// PARSE:      the Python callback 'my_fn' cannot be read from IR text
