"""Lightning callbacks of compresslab's own."""

from __future__ import annotations

from typing import Any

from lightning.pytorch.callbacks import RichModelSummary
from lightning.pytorch.utilities.model_summary import get_formatted_model_size, get_human_readable_count


class ModelSummary(RichModelSummary):
    """Lightning's rich model summary without its FLOPs column and total.

    Lightning counts FLOPs only for modules with an ``example_input_array`` (0 otherwise), and its convention
    differs from ours; every run's MAdds (FLOPs = 2 × MAdds) come from ``compresslab.measure`` and are logged at
    start-up and written to ``metrics.json``.
    """

    @staticmethod
    def summarize(
        summary_data: list[tuple[str, list[str]]],
        total_parameters: int,
        trainable_parameters: int,
        model_size: float,
        total_training_modes: dict[str, int],
        total_flops: int = 0,
        **summarize_kwargs: Any,
    ) -> None:
        from rich import get_console
        from rich.table import Table

        columns = [(name, values) for name, values in summary_data if name != "FLOPs"]
        table = Table(header_style=summarize_kwargs.get("header_style", "bold magenta"))
        for name, _ in columns:
            table.add_column(name or " ", justify="right" if name not in ("", "Name", "Type") else "left")
        for row in zip(*(values for _, values in columns)):
            table.add_row(*row)
        console = get_console()
        console.print(table)
        frozen = total_parameters - trainable_parameters
        console.print(
            f"params: {get_human_readable_count(int(trainable_parameters)).strip()} trainable, "
            f"{get_human_readable_count(int(frozen)).strip()} frozen, {get_formatted_model_size(model_size)} MB | "
            f"modules: {total_training_modes['train']} train, {total_training_modes['eval']} eval"
        )
