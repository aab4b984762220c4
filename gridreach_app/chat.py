"""``gridreach chat``: talk to the assistant in a terminal as a resident; answers are stored."""

from __future__ import annotations

import sys

from gridreach.identity import resident_sender_id
from gridreach.settings import Settings
from gridreach_app.dialogue import Reply, start_message
from gridreach_app.runtime import open_runtime
from gridreach_app.sample import load_sample

__all__ = ["run_chat"]


def _show(replies: list[Reply]) -> None:
    for reply in replies:
        if reply.text:
            print(f"  🤖 {reply.text}")
        for i, button in enumerate(reply.buttons, 1):
            print(f"     [{i}] {button.get('title')}")


async def run_chat(settings: Settings, phone: str | None, resident_id: int | None, start: str | None) -> int:
    async with open_runtime(settings) as rt:
        if phone:
            resident = rt.store.find_resident_by_phone(phone)
        elif resident_id is not None:
            resident = rt.store.get_resident(resident_id)
        else:
            load_sample(rt.store)
            residents = rt.store.residents_in_grid("G01")
            resident = residents[0] if residents else None
        if resident is None:
            print("No such resident. Import residents first (gridreach residents import FILE).", file=sys.stderr)
            return 2
        print(f"You are resident #{resident.id} of grid {resident.grid_code}. Type your answers; Ctrl-D to quit.")
        sender = resident_sender_id(resident.id)
        if start:
            _show(await rt.dialogue.handle(sender, start_message(start), "cli"))
        while True:
            try:
                text = input("> ").strip()
            except EOFError:
                print()
                break
            if text:
                _show(await rt.dialogue.handle(sender, text, "cli"))
        print("Answers are in the database. See them per grid: gridreach report")
    return 0
