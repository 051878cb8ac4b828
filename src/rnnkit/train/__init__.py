"""The one training engine: ``Trainer.fit`` with AdamW, clipping, schedules, weight averaging, early stopping,
budgets and checkpoints that resume bit for bit (safetensors + JSON, never pickle).

Example:
    >>> from rnnkit.train import TrainConfig, Trainer, TensorBatches, setup_runtime
    >>> setup_runtime()  # flush denormals: much faster CPU LSTM training
    >>> result = Trainer(TrainConfig(max_epochs=5), out_dir="runs/demo").fit(
    ...     model, TensorBatches(x, y, batch_size=32), valid=TensorBatches(xv, yv, shuffle=False),
    ...     loss_fn=lambda m, b: torch.nn.functional.mse_loss(m(b[0]), b[1]))
"""

from rnnkit.train.batches import SampleBatches, TensorBatches, to_device
from rnnkit.train.checkpoint import load_checkpoint, read_pointer
from rnnkit.train.config import TrainConfig
from rnnkit.train.folders import check_save_target, load_model_folder, save_model_folder
from rnnkit.train.runtime import resolve_device, seed_everything, setup_runtime
from rnnkit.train.schedule import Schedule
from rnnkit.train.trainer import FitResult, Trainer

__all__ = ["TrainConfig", "Trainer", "FitResult", "TensorBatches", "SampleBatches", "setup_runtime",
           "seed_everything", "resolve_device", "save_model_folder", "load_model_folder", "check_save_target",
           "load_checkpoint",
           "read_pointer", "to_device", "Schedule"]
