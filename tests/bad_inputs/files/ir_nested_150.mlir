// 150 nested regions: valid IR that Python's default recursion limit cannot parse.
func.func @main(%p: tensor<i1>, %x: tensor<f32>) -> tensor<f32> {
%c = lax.cond %p : tensor<i1> -> tensor<f32> {
%c = lax.cond %p : tensor<i1> -> tensor<f32> {
%c = lax.cond %p : tensor<i1> -> tensor<f32> {
%c = lax.cond %p : tensor<i1> -> tensor<f32> {
%c = lax.cond %p : tensor<i1> -> tensor<f32> {
%c = lax.cond %p : tensor<i1> -> tensor<f32> {
%c = lax.cond %p : tensor<i1> -> tensor<f32> {
%c = lax.cond %p : tensor<i1> -> tensor<f32> {
%c = lax.cond %p : tensor<i1> -> tensor<f32> {
%c = lax.cond %p : tensor<i1> -> tensor<f32> {
%c = lax.cond %p : tensor<i1> -> tensor<f32> {
%c = lax.cond %p : tensor<i1> -> tensor<f32> {
%c = lax.cond %p : tensor<i1> -> tensor<f32> {
%c = lax.cond %p : tensor<i1> -> tensor<f32> {
%c = lax.cond %p : tensor<i1> -> tensor<f32> {
%c = lax.cond %p : tensor<i1> -> tensor<f32> {
%c = lax.cond %p : tensor<i1> -> tensor<f32> {
%c = lax.cond %p : tensor<i1> -> tensor<f32> {
%c = lax.cond %p : tensor<i1> -> tensor<f32> {
%c = lax.cond %p : tensor<i1> -> tensor<f32> {
%c = lax.cond %p : tensor<i1> -> tensor<f32> {
%c = lax.cond %p : tensor<i1> -> tensor<f32> {
%c = lax.cond %p : tensor<i1> -> tensor<f32> {
%c = lax.cond %p : tensor<i1> -> tensor<f32> {
%c = lax.cond %p : tensor<i1> -> tensor<f32> {
%c = lax.cond %p : tensor<i1> -> tensor<f32> {
%c = lax.cond %p : tensor<i1> -> tensor<f32> {
%c = lax.cond %p : tensor<i1> -> tensor<f32> {
%c = lax.cond %p : tensor<i1> -> tensor<f32> {
%c = lax.cond %p : tensor<i1> -> tensor<f32> {
%c = lax.cond %p : tensor<i1> -> tensor<f32> {
%c = lax.cond %p : tensor<i1> -> tensor<f32> {
%c = lax.cond %p : tensor<i1> -> tensor<f32> {
%c = lax.cond %p : tensor<i1> -> tensor<f32> {
%c = lax.cond %p : tensor<i1> -> tensor<f32> {
%c = lax.cond %p : tensor<i1> -> tensor<f32> {
%c = lax.cond %p : tensor<i1> -> tensor<f32> {
%c = lax.cond %p : tensor<i1> -> tensor<f32> {
%c = lax.cond %p : tensor<i1> -> tensor<f32> {
%c = lax.cond %p : tensor<i1> -> tensor<f32> {
%c = lax.cond %p : tensor<i1> -> tensor<f32> {
%c = lax.cond %p : tensor<i1> -> tensor<f32> {
%c = lax.cond %p : tensor<i1> -> tensor<f32> {
%c = lax.cond %p : tensor<i1> -> tensor<f32> {
%c = lax.cond %p : tensor<i1> -> tensor<f32> {
%c = lax.cond %p : tensor<i1> -> tensor<f32> {
%c = lax.cond %p : tensor<i1> -> tensor<f32> {
%c = lax.cond %p : tensor<i1> -> tensor<f32> {
%c = lax.cond %p : tensor<i1> -> tensor<f32> {
%c = lax.cond %p : tensor<i1> -> tensor<f32> {
%c = lax.cond %p : tensor<i1> -> tensor<f32> {
%c = lax.cond %p : tensor<i1> -> tensor<f32> {
%c = lax.cond %p : tensor<i1> -> tensor<f32> {
%c = lax.cond %p : tensor<i1> -> tensor<f32> {
%c = lax.cond %p : tensor<i1> -> tensor<f32> {
%c = lax.cond %p : tensor<i1> -> tensor<f32> {
%c = lax.cond %p : tensor<i1> -> tensor<f32> {
%c = lax.cond %p : tensor<i1> -> tensor<f32> {
%c = lax.cond %p : tensor<i1> -> tensor<f32> {
%c = lax.cond %p : tensor<i1> -> tensor<f32> {
%c = lax.cond %p : tensor<i1> -> tensor<f32> {
%c = lax.cond %p : tensor<i1> -> tensor<f32> {
%c = lax.cond %p : tensor<i1> -> tensor<f32> {
%c = lax.cond %p : tensor<i1> -> tensor<f32> {
%c = lax.cond %p : tensor<i1> -> tensor<f32> {
%c = lax.cond %p : tensor<i1> -> tensor<f32> {
%c = lax.cond %p : tensor<i1> -> tensor<f32> {
%c = lax.cond %p : tensor<i1> -> tensor<f32> {
%c = lax.cond %p : tensor<i1> -> tensor<f32> {
%c = lax.cond %p : tensor<i1> -> tensor<f32> {
%c = lax.cond %p : tensor<i1> -> tensor<f32> {
%c = lax.cond %p : tensor<i1> -> tensor<f32> {
%c = lax.cond %p : tensor<i1> -> tensor<f32> {
%c = lax.cond %p : tensor<i1> -> tensor<f32> {
%c = lax.cond %p : tensor<i1> -> tensor<f32> {
%c = lax.cond %p : tensor<i1> -> tensor<f32> {
%c = lax.cond %p : tensor<i1> -> tensor<f32> {
%c = lax.cond %p : tensor<i1> -> tensor<f32> {
%c = lax.cond %p : tensor<i1> -> tensor<f32> {
%c = lax.cond %p : tensor<i1> -> tensor<f32> {
%c = lax.cond %p : tensor<i1> -> tensor<f32> {
%c = lax.cond %p : tensor<i1> -> tensor<f32> {
%c = lax.cond %p : tensor<i1> -> tensor<f32> {
%c = lax.cond %p : tensor<i1> -> tensor<f32> {
%c = lax.cond %p : tensor<i1> -> tensor<f32> {
%c = lax.cond %p : tensor<i1> -> tensor<f32> {
%c = lax.cond %p : tensor<i1> -> tensor<f32> {
%c = lax.cond %p : tensor<i1> -> tensor<f32> {
%c = lax.cond %p : tensor<i1> -> tensor<f32> {
%c = lax.cond %p : tensor<i1> -> tensor<f32> {
%c = lax.cond %p : tensor<i1> -> tensor<f32> {
%c = lax.cond %p : tensor<i1> -> tensor<f32> {
%c = lax.cond %p : tensor<i1> -> tensor<f32> {
%c = lax.cond %p : tensor<i1> -> tensor<f32> {
%c = lax.cond %p : tensor<i1> -> tensor<f32> {
%c = lax.cond %p : tensor<i1> -> tensor<f32> {
%c = lax.cond %p : tensor<i1> -> tensor<f32> {
%c = lax.cond %p : tensor<i1> -> tensor<f32> {
%c = lax.cond %p : tensor<i1> -> tensor<f32> {
%c = lax.cond %p : tensor<i1> -> tensor<f32> {
%c = lax.cond %p : tensor<i1> -> tensor<f32> {
%c = lax.cond %p : tensor<i1> -> tensor<f32> {
%c = lax.cond %p : tensor<i1> -> tensor<f32> {
%c = lax.cond %p : tensor<i1> -> tensor<f32> {
%c = lax.cond %p : tensor<i1> -> tensor<f32> {
%c = lax.cond %p : tensor<i1> -> tensor<f32> {
%c = lax.cond %p : tensor<i1> -> tensor<f32> {
%c = lax.cond %p : tensor<i1> -> tensor<f32> {
%c = lax.cond %p : tensor<i1> -> tensor<f32> {
%c = lax.cond %p : tensor<i1> -> tensor<f32> {
%c = lax.cond %p : tensor<i1> -> tensor<f32> {
%c = lax.cond %p : tensor<i1> -> tensor<f32> {
%c = lax.cond %p : tensor<i1> -> tensor<f32> {
%c = lax.cond %p : tensor<i1> -> tensor<f32> {
%c = lax.cond %p : tensor<i1> -> tensor<f32> {
%c = lax.cond %p : tensor<i1> -> tensor<f32> {
%c = lax.cond %p : tensor<i1> -> tensor<f32> {
%c = lax.cond %p : tensor<i1> -> tensor<f32> {
%c = lax.cond %p : tensor<i1> -> tensor<f32> {
%c = lax.cond %p : tensor<i1> -> tensor<f32> {
%c = lax.cond %p : tensor<i1> -> tensor<f32> {
%c = lax.cond %p : tensor<i1> -> tensor<f32> {
%c = lax.cond %p : tensor<i1> -> tensor<f32> {
%c = lax.cond %p : tensor<i1> -> tensor<f32> {
%c = lax.cond %p : tensor<i1> -> tensor<f32> {
%c = lax.cond %p : tensor<i1> -> tensor<f32> {
%c = lax.cond %p : tensor<i1> -> tensor<f32> {
%c = lax.cond %p : tensor<i1> -> tensor<f32> {
%c = lax.cond %p : tensor<i1> -> tensor<f32> {
%c = lax.cond %p : tensor<i1> -> tensor<f32> {
%c = lax.cond %p : tensor<i1> -> tensor<f32> {
%c = lax.cond %p : tensor<i1> -> tensor<f32> {
%c = lax.cond %p : tensor<i1> -> tensor<f32> {
%c = lax.cond %p : tensor<i1> -> tensor<f32> {
%c = lax.cond %p : tensor<i1> -> tensor<f32> {
%c = lax.cond %p : tensor<i1> -> tensor<f32> {
%c = lax.cond %p : tensor<i1> -> tensor<f32> {
%c = lax.cond %p : tensor<i1> -> tensor<f32> {
%c = lax.cond %p : tensor<i1> -> tensor<f32> {
%c = lax.cond %p : tensor<i1> -> tensor<f32> {
%c = lax.cond %p : tensor<i1> -> tensor<f32> {
%c = lax.cond %p : tensor<i1> -> tensor<f32> {
%c = lax.cond %p : tensor<i1> -> tensor<f32> {
%c = lax.cond %p : tensor<i1> -> tensor<f32> {
%c = lax.cond %p : tensor<i1> -> tensor<f32> {
%c = lax.cond %p : tensor<i1> -> tensor<f32> {
%c = lax.cond %p : tensor<i1> -> tensor<f32> {
%c = lax.cond %p : tensor<i1> -> tensor<f32> {
%c = lax.cond %p : tensor<i1> -> tensor<f32> {
%c = lax.cond %p : tensor<i1> -> tensor<f32> {
lax.yield %x : tensor<f32>
}, {
lax.yield %x : tensor<f32>
}
lax.yield %c : tensor<f32>
}, {
lax.yield %x : tensor<f32>
}
lax.yield %c : tensor<f32>
}, {
lax.yield %x : tensor<f32>
}
lax.yield %c : tensor<f32>
}, {
lax.yield %x : tensor<f32>
}
lax.yield %c : tensor<f32>
}, {
lax.yield %x : tensor<f32>
}
lax.yield %c : tensor<f32>
}, {
lax.yield %x : tensor<f32>
}
lax.yield %c : tensor<f32>
}, {
lax.yield %x : tensor<f32>
}
lax.yield %c : tensor<f32>
}, {
lax.yield %x : tensor<f32>
}
lax.yield %c : tensor<f32>
}, {
lax.yield %x : tensor<f32>
}
lax.yield %c : tensor<f32>
}, {
lax.yield %x : tensor<f32>
}
lax.yield %c : tensor<f32>
}, {
lax.yield %x : tensor<f32>
}
lax.yield %c : tensor<f32>
}, {
lax.yield %x : tensor<f32>
}
lax.yield %c : tensor<f32>
}, {
lax.yield %x : tensor<f32>
}
lax.yield %c : tensor<f32>
}, {
lax.yield %x : tensor<f32>
}
lax.yield %c : tensor<f32>
}, {
lax.yield %x : tensor<f32>
}
lax.yield %c : tensor<f32>
}, {
lax.yield %x : tensor<f32>
}
lax.yield %c : tensor<f32>
}, {
lax.yield %x : tensor<f32>
}
lax.yield %c : tensor<f32>
}, {
lax.yield %x : tensor<f32>
}
lax.yield %c : tensor<f32>
}, {
lax.yield %x : tensor<f32>
}
lax.yield %c : tensor<f32>
}, {
lax.yield %x : tensor<f32>
}
lax.yield %c : tensor<f32>
}, {
lax.yield %x : tensor<f32>
}
lax.yield %c : tensor<f32>
}, {
lax.yield %x : tensor<f32>
}
lax.yield %c : tensor<f32>
}, {
lax.yield %x : tensor<f32>
}
lax.yield %c : tensor<f32>
}, {
lax.yield %x : tensor<f32>
}
lax.yield %c : tensor<f32>
}, {
lax.yield %x : tensor<f32>
}
lax.yield %c : tensor<f32>
}, {
lax.yield %x : tensor<f32>
}
lax.yield %c : tensor<f32>
}, {
lax.yield %x : tensor<f32>
}
lax.yield %c : tensor<f32>
}, {
lax.yield %x : tensor<f32>
}
lax.yield %c : tensor<f32>
}, {
lax.yield %x : tensor<f32>
}
lax.yield %c : tensor<f32>
}, {
lax.yield %x : tensor<f32>
}
lax.yield %c : tensor<f32>
}, {
lax.yield %x : tensor<f32>
}
lax.yield %c : tensor<f32>
}, {
lax.yield %x : tensor<f32>
}
lax.yield %c : tensor<f32>
}, {
lax.yield %x : tensor<f32>
}
lax.yield %c : tensor<f32>
}, {
lax.yield %x : tensor<f32>
}
lax.yield %c : tensor<f32>
}, {
lax.yield %x : tensor<f32>
}
lax.yield %c : tensor<f32>
}, {
lax.yield %x : tensor<f32>
}
lax.yield %c : tensor<f32>
}, {
lax.yield %x : tensor<f32>
}
lax.yield %c : tensor<f32>
}, {
lax.yield %x : tensor<f32>
}
lax.yield %c : tensor<f32>
}, {
lax.yield %x : tensor<f32>
}
lax.yield %c : tensor<f32>
}, {
lax.yield %x : tensor<f32>
}
lax.yield %c : tensor<f32>
}, {
lax.yield %x : tensor<f32>
}
lax.yield %c : tensor<f32>
}, {
lax.yield %x : tensor<f32>
}
lax.yield %c : tensor<f32>
}, {
lax.yield %x : tensor<f32>
}
lax.yield %c : tensor<f32>
}, {
lax.yield %x : tensor<f32>
}
lax.yield %c : tensor<f32>
}, {
lax.yield %x : tensor<f32>
}
lax.yield %c : tensor<f32>
}, {
lax.yield %x : tensor<f32>
}
lax.yield %c : tensor<f32>
}, {
lax.yield %x : tensor<f32>
}
lax.yield %c : tensor<f32>
}, {
lax.yield %x : tensor<f32>
}
lax.yield %c : tensor<f32>
}, {
lax.yield %x : tensor<f32>
}
lax.yield %c : tensor<f32>
}, {
lax.yield %x : tensor<f32>
}
lax.yield %c : tensor<f32>
}, {
lax.yield %x : tensor<f32>
}
lax.yield %c : tensor<f32>
}, {
lax.yield %x : tensor<f32>
}
lax.yield %c : tensor<f32>
}, {
lax.yield %x : tensor<f32>
}
lax.yield %c : tensor<f32>
}, {
lax.yield %x : tensor<f32>
}
lax.yield %c : tensor<f32>
}, {
lax.yield %x : tensor<f32>
}
lax.yield %c : tensor<f32>
}, {
lax.yield %x : tensor<f32>
}
lax.yield %c : tensor<f32>
}, {
lax.yield %x : tensor<f32>
}
lax.yield %c : tensor<f32>
}, {
lax.yield %x : tensor<f32>
}
lax.yield %c : tensor<f32>
}, {
lax.yield %x : tensor<f32>
}
lax.yield %c : tensor<f32>
}, {
lax.yield %x : tensor<f32>
}
lax.yield %c : tensor<f32>
}, {
lax.yield %x : tensor<f32>
}
lax.yield %c : tensor<f32>
}, {
lax.yield %x : tensor<f32>
}
lax.yield %c : tensor<f32>
}, {
lax.yield %x : tensor<f32>
}
lax.yield %c : tensor<f32>
}, {
lax.yield %x : tensor<f32>
}
lax.yield %c : tensor<f32>
}, {
lax.yield %x : tensor<f32>
}
lax.yield %c : tensor<f32>
}, {
lax.yield %x : tensor<f32>
}
lax.yield %c : tensor<f32>
}, {
lax.yield %x : tensor<f32>
}
lax.yield %c : tensor<f32>
}, {
lax.yield %x : tensor<f32>
}
lax.yield %c : tensor<f32>
}, {
lax.yield %x : tensor<f32>
}
lax.yield %c : tensor<f32>
}, {
lax.yield %x : tensor<f32>
}
lax.yield %c : tensor<f32>
}, {
lax.yield %x : tensor<f32>
}
lax.yield %c : tensor<f32>
}, {
lax.yield %x : tensor<f32>
}
lax.yield %c : tensor<f32>
}, {
lax.yield %x : tensor<f32>
}
lax.yield %c : tensor<f32>
}, {
lax.yield %x : tensor<f32>
}
lax.yield %c : tensor<f32>
}, {
lax.yield %x : tensor<f32>
}
lax.yield %c : tensor<f32>
}, {
lax.yield %x : tensor<f32>
}
lax.yield %c : tensor<f32>
}, {
lax.yield %x : tensor<f32>
}
lax.yield %c : tensor<f32>
}, {
lax.yield %x : tensor<f32>
}
lax.yield %c : tensor<f32>
}, {
lax.yield %x : tensor<f32>
}
lax.yield %c : tensor<f32>
}, {
lax.yield %x : tensor<f32>
}
lax.yield %c : tensor<f32>
}, {
lax.yield %x : tensor<f32>
}
lax.yield %c : tensor<f32>
}, {
lax.yield %x : tensor<f32>
}
lax.yield %c : tensor<f32>
}, {
lax.yield %x : tensor<f32>
}
lax.yield %c : tensor<f32>
}, {
lax.yield %x : tensor<f32>
}
lax.yield %c : tensor<f32>
}, {
lax.yield %x : tensor<f32>
}
lax.yield %c : tensor<f32>
}, {
lax.yield %x : tensor<f32>
}
lax.yield %c : tensor<f32>
}, {
lax.yield %x : tensor<f32>
}
lax.yield %c : tensor<f32>
}, {
lax.yield %x : tensor<f32>
}
lax.yield %c : tensor<f32>
}, {
lax.yield %x : tensor<f32>
}
lax.yield %c : tensor<f32>
}, {
lax.yield %x : tensor<f32>
}
lax.yield %c : tensor<f32>
}, {
lax.yield %x : tensor<f32>
}
lax.yield %c : tensor<f32>
}, {
lax.yield %x : tensor<f32>
}
lax.yield %c : tensor<f32>
}, {
lax.yield %x : tensor<f32>
}
lax.yield %c : tensor<f32>
}, {
lax.yield %x : tensor<f32>
}
lax.yield %c : tensor<f32>
}, {
lax.yield %x : tensor<f32>
}
lax.yield %c : tensor<f32>
}, {
lax.yield %x : tensor<f32>
}
lax.yield %c : tensor<f32>
}, {
lax.yield %x : tensor<f32>
}
lax.yield %c : tensor<f32>
}, {
lax.yield %x : tensor<f32>
}
lax.yield %c : tensor<f32>
}, {
lax.yield %x : tensor<f32>
}
lax.yield %c : tensor<f32>
}, {
lax.yield %x : tensor<f32>
}
lax.yield %c : tensor<f32>
}, {
lax.yield %x : tensor<f32>
}
lax.yield %c : tensor<f32>
}, {
lax.yield %x : tensor<f32>
}
lax.yield %c : tensor<f32>
}, {
lax.yield %x : tensor<f32>
}
lax.yield %c : tensor<f32>
}, {
lax.yield %x : tensor<f32>
}
lax.yield %c : tensor<f32>
}, {
lax.yield %x : tensor<f32>
}
lax.yield %c : tensor<f32>
}, {
lax.yield %x : tensor<f32>
}
lax.yield %c : tensor<f32>
}, {
lax.yield %x : tensor<f32>
}
lax.yield %c : tensor<f32>
}, {
lax.yield %x : tensor<f32>
}
lax.yield %c : tensor<f32>
}, {
lax.yield %x : tensor<f32>
}
lax.yield %c : tensor<f32>
}, {
lax.yield %x : tensor<f32>
}
lax.yield %c : tensor<f32>
}, {
lax.yield %x : tensor<f32>
}
lax.yield %c : tensor<f32>
}, {
lax.yield %x : tensor<f32>
}
lax.yield %c : tensor<f32>
}, {
lax.yield %x : tensor<f32>
}
lax.yield %c : tensor<f32>
}, {
lax.yield %x : tensor<f32>
}
lax.yield %c : tensor<f32>
}, {
lax.yield %x : tensor<f32>
}
lax.yield %c : tensor<f32>
}, {
lax.yield %x : tensor<f32>
}
lax.yield %c : tensor<f32>
}, {
lax.yield %x : tensor<f32>
}
lax.yield %c : tensor<f32>
}, {
lax.yield %x : tensor<f32>
}
lax.yield %c : tensor<f32>
}, {
lax.yield %x : tensor<f32>
}
lax.yield %c : tensor<f32>
}, {
lax.yield %x : tensor<f32>
}
lax.yield %c : tensor<f32>
}, {
lax.yield %x : tensor<f32>
}
lax.yield %c : tensor<f32>
}, {
lax.yield %x : tensor<f32>
}
lax.yield %c : tensor<f32>
}, {
lax.yield %x : tensor<f32>
}
lax.yield %c : tensor<f32>
}, {
lax.yield %x : tensor<f32>
}
lax.yield %c : tensor<f32>
}, {
lax.yield %x : tensor<f32>
}
lax.yield %c : tensor<f32>
}, {
lax.yield %x : tensor<f32>
}
lax.yield %c : tensor<f32>
}, {
lax.yield %x : tensor<f32>
}
lax.yield %c : tensor<f32>
}, {
lax.yield %x : tensor<f32>
}
lax.yield %c : tensor<f32>
}, {
lax.yield %x : tensor<f32>
}
lax.yield %c : tensor<f32>
}, {
lax.yield %x : tensor<f32>
}
lax.yield %c : tensor<f32>
}, {
lax.yield %x : tensor<f32>
}
lax.yield %c : tensor<f32>
}, {
lax.yield %x : tensor<f32>
}
lax.yield %c : tensor<f32>
}, {
lax.yield %x : tensor<f32>
}
lax.yield %c : tensor<f32>
}, {
lax.yield %x : tensor<f32>
}
lax.yield %c : tensor<f32>
}, {
lax.yield %x : tensor<f32>
}
lax.yield %c : tensor<f32>
}, {
lax.yield %x : tensor<f32>
}
lax.yield %c : tensor<f32>
}, {
lax.yield %x : tensor<f32>
}
lax.yield %c : tensor<f32>
}, {
lax.yield %x : tensor<f32>
}
lax.yield %c : tensor<f32>
}, {
lax.yield %x : tensor<f32>
}
lax.yield %c : tensor<f32>
}, {
lax.yield %x : tensor<f32>
}
lax.yield %c : tensor<f32>
}, {
lax.yield %x : tensor<f32>
}
lax.yield %c : tensor<f32>
}, {
lax.yield %x : tensor<f32>
}
lax.yield %c : tensor<f32>
}, {
lax.yield %x : tensor<f32>
}
lax.yield %c : tensor<f32>
}, {
lax.yield %x : tensor<f32>
}
lax.yield %c : tensor<f32>
}, {
lax.yield %x : tensor<f32>
}
lax.yield %c : tensor<f32>
}, {
lax.yield %x : tensor<f32>
}
lax.yield %c : tensor<f32>
}, {
lax.yield %x : tensor<f32>
}
lax.yield %c : tensor<f32>
}, {
lax.yield %x : tensor<f32>
}
lax.yield %c : tensor<f32>
}, {
lax.yield %x : tensor<f32>
}
lax.yield %c : tensor<f32>
}, {
lax.yield %x : tensor<f32>
}
func.return %c : tensor<f32>
}
