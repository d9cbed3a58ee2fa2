"""DIET's and TED's TensorFlow call without `tf.function`'s per-call dispatch (installed by `orderdesk.servers.rasa`).

Rasa 3.6 runs every prediction of a TensorFlow model (DIET on each message, TED on each prediction it makes)
through a `tf.function` with a fixed input signature (`RasaModel._rasa_predict`): one traced graph, whatever the
message. Calling the `tf.function` still looks that graph up on every call: it works out a cache key from the
inputs and checks them against the signature again (TensorFlow's `_maybe_define_function` and
`canonicalize_function_inputs`), about a third of the call's time in a profile of the Rasa server.

Here, after Rasa's own first call has traced the graph, the model keeps the traced (concrete) function and later
calls run it directly with the inputs converted to the signature's types: the same graph, the same inputs, the
same outputs (tests/scale/test_tfcall.py compares them). Anything unusual (eager mode, inputs that do not match
the signature) goes to Rasa's own call. `ORDERDESK_TF_CALL=0` switches it off (to measure the difference).
"""
from __future__ import annotations

import os
from typing import Any

ENV = "ORDERDESK_TF_CALL"

_originals: dict[str, Any] = {}


def _direct(model: Any) -> Any:
    """(concrete function, input dtypes, input shapes) of the model's traced prediction step, built once per
    model."""
    found = model.__dict__.get("_orderdesk_direct")
    if found is None:
        step = model._tf_predict_step
        concrete = step.get_concrete_function()
        (specs,) = step.input_signature
        found = model._orderdesk_direct = (concrete, [spec.dtype for spec in specs], [spec.shape for spec in specs])
    return found


def predict(model: Any, batch_in: Any) -> Any:
    """`RasaModel._rasa_predict(batch_in)` through the traced function itself; None when it can't be used."""
    import tensorflow as tf
    from rasa.shared.constants import DIAGNOSTIC_DATA
    from rasa.utils.tensorflow.models import tf_utils  # the module Rasa's own call uses

    concrete, dtypes, shapes = _direct(model)
    if len(batch_in) != len(dtypes):
        return None
    inputs = []
    for value, dtype, shape in zip(batch_in, dtypes, shapes):
        tensor = tf.convert_to_tensor(value, dtype=dtype)
        if not shape.is_compatible_with(tensor.shape):
            return None
        inputs.append(tensor)
    outputs = tf_utils.sync_to_numpy_or_python_type(concrete._call_flat(inputs, concrete.captured_inputs))
    if DIAGNOSTIC_DATA in outputs:
        outputs[DIAGNOSTIC_DATA] = model._empty_lists_to_none_in_dict(outputs[DIAGNOSTIC_DATA])
    return outputs


def install() -> bool:
    """Patch Rasa (idempotent). False when switched off (ORDERDESK_TF_CALL=0)."""
    if os.environ.get(ENV) == "0":
        return False
    if _originals:
        return True
    from rasa.utils.tensorflow.models import RasaModel

    original = _originals["predict"] = RasaModel._rasa_predict

    def rasa_predict(self: Any, batch_in: Any) -> Any:
        if self._run_eagerly or self._tf_predict_step is None or not self.prepared_for_prediction:
            return original(self, batch_in)  # the first call traces the graph; eager mode has none
        self._training = False
        outputs = predict(self, batch_in)
        return original(self, batch_in) if outputs is None else outputs

    RasaModel._rasa_predict = rasa_predict
    return True


def uninstall() -> None:
    """Rasa's own call again (tests compare both)."""
    if not _originals:
        return
    from rasa.utils.tensorflow.models import RasaModel

    RasaModel._rasa_predict = _originals.pop("predict")
