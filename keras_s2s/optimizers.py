# Copyright 2026 The keras-s2s Authors. SPDX-License-Identifier: Apache-2.0
"""Adam whose per-variable update is TensorFlow's fused `ResourceApplyAdam` kernel.

Keras 3's `Adam.update_step` writes the update as about ten element-wise ops per
variable (two `assign_add`, a square, a square root, a division, ...), each a full pass
over the variable, its gradient or a temporary: ~8% of a Multi30k training step's CPU
time in a profile (bench/README.md). `ResourceApplyAdam` makes the same update in one
pass, with the same formula as Keras:

    alpha = lr * sqrt(1 - beta_2^t) / (1 - beta_1^t)
    m += (g - m) * (1 - beta_1)
    v += (g^2 - v) * (1 - beta_2)
    var -= alpha * m / (sqrt(v) + epsilon)

An embedding's gradient (IndexedSlices) keeps Keras' own handling: Keras 3 squares the
slices of an id repeated in a batch before summing them, in `global_clipnorm`'s global
norm and, without clipping, in Adam's second moment (clipping hands the gradient over
dense). Making it dense first, as textbook Adam, was measured and lost badly on
Multi30k (docs/design.md, bench/README.md). Everything else is Keras' `Adam`: its
variables (so checkpoints, `.keras` files and resumes are unchanged), gradient
clipping, learning-rate handling, and the fallback to Keras' update where the kernel
does not apply (AMSGrad, non-float32 variables).
"""

from __future__ import annotations

import keras
import tensorflow as tf

_PACKAGE = "keras_s2s"


@keras.saving.register_keras_serializable(package=_PACKAGE)
class FusedAdam(keras.optimizers.Adam):
    """`keras.optimizers.Adam` with the update made by one fused TensorFlow kernel.

    Takes exactly `keras.optimizers.Adam`'s arguments (`learning_rate`, `beta_1`,
    `beta_2`, `epsilon`, `amsgrad`, `global_clipnorm`, ...) and has the same
    variables and config.

    Example:
        >>> model.compile(optimizer=FusedAdam(3e-3, global_clipnorm=1.0), loss=...)
    """

    def update_step(self, gradient, variable, learning_rate):
        """Applies one Adam update to `variable` (a `tf.Variable`) from `gradient`."""
        if self.amsgrad or variable.dtype != tf.float32 or isinstance(gradient, tf.IndexedSlices):
            return super().update_step(gradient, variable, learning_rate)
        index = self._get_variable_index(variable)
        m, v = self._momentums[index], self._velocities[index]
        step = tf.cast(self.iterations + 1, tf.float32)
        beta_1, beta_2 = (tf.cast(b, tf.float32) for b in (self.beta_1, self.beta_2))
        tf.raw_ops.ResourceApplyAdam(
            var=variable.handle,
            m=m.value.handle,
            v=v.value.handle,
            beta1_power=tf.pow(beta_1, step),
            beta2_power=tf.pow(beta_2, step),
            lr=tf.cast(learning_rate, tf.float32),
            beta1=beta_1,
            beta2=beta_2,
            epsilon=tf.cast(self.epsilon, tf.float32),
            grad=gradient,
        )
