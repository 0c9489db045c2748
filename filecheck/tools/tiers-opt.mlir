// RUN: tiers-opt %s -p O0 | filecheck %s --check-prefix=O0
// RUN: tiers-opt %s -p O1 | filecheck %s --check-prefix=O1
// RUN: tiers-opt %s -p inline,O1 | filecheck %s --check-prefix=FLAT
// RUN: not tiers-opt %s -p cse,nope 2>&1 | filecheck %s --check-prefix=UNKNOWN
// RUN: not tiers-opt %s -p canonicalise 2>&1 | filecheck %s --check-prefix=NEAR
// RUN: tiers-opt --list-passes | filecheck %s --check-prefix=LIST
// RUN: tiers-opt --version | filecheck %s --check-prefix=VERSION

// `-p` takes tiers' presets alone or inside a pass list, next to every xDSL and tiers pass.

func.func @main(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = func.call @helper(%x) : (tensor<4xf32>) -> tensor<4xf32>
  %1 = func.call @helper(%x) : (tensor<4xf32>) -> tensor<4xf32>
  %2 = lax.add %0, %1 : tensor<4xf32>
  %3 = lax.exp %x : tensor<4xf32>
  func.return %2 : tensor<4xf32>
}
func.func private @helper(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = lax.tanh %x : tensor<4xf32>
  func.return %0 : tensor<4xf32>
}

// O0 runs nothing.
// O0:      %3 = lax.exp %x : tensor<4xf32>

// O1 cleans up (the unused exp goes) but keeps the calls.
// O1-LABEL: func.func @main
// O1-NEXT:    %0 = func.call @helper(%x)
// O1-NEXT:    %1 = func.call @helper(%x)
// O1-NEXT:    %2 = lax.add %0, %1 : tensor<4xf32>
// O1-NEXT:    func.return %2 : tensor<4xf32>

// inline first, then O1, leaves one tanh and no helper.
// FLAT-LABEL: func.func @main
// FLAT-NEXT:    %0 = lax.tanh %x : tensor<4xf32>
// FLAT-NEXT:    %1 = lax.add %0, %0 : tensor<4xf32>
// FLAT-NEXT:    func.return %1 : tensor<4xf32>
// FLAT-NEXT:  }
// FLAT-NEXT: }

// UNKNOWN:      tiers-opt: error: unknown pass 'nope'
// UNKNOWN-NEXT: presets: O0 = (none), O1 = {{.*}}
// UNKNOWN-NEXT: passes: {{[0-9]+}} known, none close to 'nope' (tiers-opt --list-passes lists them all)

// An unknown name lists the passes closest to it and a count, not all ~140 of them.
// NEAR:      tiers-opt: error: unknown pass 'canonicalise' (did you mean 'canonicalize'?)
// NEAR-NEXT: presets: O0 = (none), O1 = {{.*}}
// NEAR-NEXT: passes: canonicalize, {{.*}} and {{[0-9]+}} more (tiers-opt --list-passes lists them all)

// LIST:      canonicalize
// LIST-NEXT: canonicalize-dmp
// LIST:      {{^}}cse{{$}}
// LIST:      {{^}}fuse{{$}}

// VERSION: tiers-opt {{[0-9]+\.[0-9]+\.[0-9]+}} (xDSL 0.74.0)
