"""Model building: training, distillation, export, evaluation."""
