"""Every integer code of the model, defined once (docs/model.md).

The compiled engine, the per-agent reference, the Mesa peer, the outcome table and the web replay all
read their codes and names from here. Each kind of code is a run of small integers starting at 0 with a
names tuple indexed by code, so ``NAMES[code]`` is the name and ``NAMES.index(name)`` the code.
"""

from __future__ import annotations

# Space kinds (building.spaces[].kind) ---------------------------------------------------------------
SPACE_KIND_NAMES: tuple[str, ...] = (
    "classroom",
    "office",
    "lounge",
    "restroom",
    "corridor",
    "stairwell",
    "open_area",
    "exit",
)
CLASSROOM, OFFICE, LOUNGE, RESTROOM, CORRIDOR, STAIRWELL, OPEN_AREA, EXIT = range(8)
KIND_CODES: dict[str, int] = {name: code for code, name in enumerate(SPACE_KIND_NAMES)}

# Occupant group states ------------------------------------------------------------------------------
GROUP_STATE_NAMES: tuple[str, ...] = (
    "unaware",
    "locking",
    "locked",
    "locked_hc",
    "hiding",
    "evacuating",
    "fire_evac",
    "out",
)
UNAWARE, LOCKING, LOCKED, LOCKED_HC, HIDING, EVACUATING, FIRE_EVAC, OUT = range(8)
#: states in which a group can be shot in the attacker's space ("open" targets, docs/model.md step 10)
OPEN_STATES: tuple[int, ...] = (UNAWARE, LOCKING, HIDING, EVACUATING, FIRE_EVAC)
#: states in which a group can still change in steps 4-6 (alerting, locking, movement)
ACTIVE_GROUP_STATES: tuple[int, ...] = (UNAWARE, LOCKING, EVACUATING, FIRE_EVAC)

# Responder unit status ------------------------------------------------------------------------------
UNIT_STATUS_NAMES: tuple[str, ...] = ("not_arrived", "on_scene", "inside", "down")
NOT_ARRIVED, ON_SCENE, INSIDE, DOWN = range(4)

# Responder roles ------------------------------------------------------------------------------------
ROLE_NAMES: tuple[str, ...] = ("sro", "patrol", "tactical")
ROLE_SRO, ROLE_PATROL, ROLE_TACTICAL = range(3)
NO_ROLE = -1

# Entry doctrines (per unit) -------------------------------------------------------------------------
DOCTRINE_NAMES: tuple[str, ...] = (
    "perimeter",
    "solo_entry",
    "wait_for_n",
    "backup_eta_rule",
    "hesitate",
    "no_entry",
    "tactical",  # the tactical team's own rule: enter on arrival
)
D_PERIMETER, D_SOLO, D_WAIT_N, D_BACKUP_ETA, D_HESITATE, D_NO_ENTRY, D_TACTICAL = range(7)
#: doctrines a scenario can name (the tactical team's rule is implied, not chosen)
DOCTRINE_CODES: dict[str, int] = {name: code for code, name in enumerate(DOCTRINE_NAMES[:6])}

# How the attack ended -------------------------------------------------------------------------------
END_REASON_NAMES: tuple[str, ...] = (
    "ongoing",
    "suicide_before_police",
    "suicide_police_on_scene",
    "fled",
    "citizens",
    "police_shot",
    "police_arrested",
)
(
    ONGOING,
    SUICIDE_BEFORE_POLICE,
    SUICIDE_POLICE_ON_SCENE,
    FLED,
    CITIZENS,
    POLICE_SHOT,
    POLICE_ARRESTED,
) = range(7)

# Competing hazards of step 11, in the order of docs/model.md ----------------------------------------
HAZARD_NAMES: tuple[str, ...] = (
    "self_termination",
    "flee",
    "citizens",
    "police",
    "barricade",
    "surrender",
    "move_away",
)
H_SELF, H_FLEE, H_CITIZENS, H_POLICE, H_BARRICADE, H_SURRENDER, H_MOVE_AWAY = range(7)

# Door locks, for the time to breach a barricaded attacker's door ------------------------------------
#: ``none``: no lock (pushed open); ``standard``: a classroom or office lock (key, pry tool);
#: ``reinforced``: a security door (tools, explosive breach)
DOOR_LOCK_NAMES: tuple[str, ...] = ("none", "standard", "reinforced")
LOCK_NONE, LOCK_STANDARD, LOCK_REINFORCED = range(3)
DOOR_LOCK_CODES: dict[str, int] = {name: code for code, name in enumerate(DOOR_LOCK_NAMES)}

# What the police do at a barricaded attacker's door (docs/model.md, *Barricade and standoff*) ----------
BARRICADE_DOCTRINE_NAMES: tuple[str, ...] = ("contain", "breach")
B_CONTAIN, B_BREACH = range(2)
