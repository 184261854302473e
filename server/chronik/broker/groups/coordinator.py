"""The classic group coordinator: JoinGroup/SyncGroup/Heartbeat/LeaveGroup as Kafka's
``GroupMetadataManager`` runs classic groups, plus the group-level reads and deletes.

Sans-I/O: requests come in as the generated request objects, responses go out through
callbacks (JoinGroup and SyncGroup park until the rebalance completes) or return values;
timers go through :class:`chronik.broker.groups.timers.Timers` (the broker's ``call_later``).

Kafka behaviours kept:

- KIP-394: a dynamic member joining with an empty member id on JoinGroup v4+ gets
  MEMBER_ID_REQUIRED and a new id, kept as a pending member for one session timeout.
- A new (Empty) group waits ``group.initial.rebalance.delay.ms`` for more members, extended
  while members keep arriving, up to the rebalance timeout.
- The rebalance completes when every member rejoined, else after the rebalance timeout, which
  removes dynamic members that did not rejoin; then the leader gets every member's metadata.
  SyncGroup members not heard from within the rebalance timeout are removed (pending sync).
- The protocol is the one all members support with the most first-choice votes; a rejoin with
  changed metadata (a changed subscription) or from the leader in Stable triggers a rebalance.
- KIP-345 static members: a known ``group.instance.id`` rejoining with an unknown member id
  replaces the old member (whose parked requests get FENCED_INSTANCE_ID) without a rebalance
  when the group is Stable and the selected protocol would not change (KIP-814: the leader
  gets the member list with ``skip_assignment``); static members are not removed for not
  rejoining, only on session expiry or LeaveGroup.
- Session expiry removes a member and rebalances; new members expire after 5 minutes.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from chronik.broker.groups.classic import CONSUMER_PROTOCOL_TYPE, ClassicGroup, GroupState, Member, Respond
from chronik.broker.groups.offsets import OffsetStore
from chronik.broker.groups.persistence import GroupStore, encode_group
from chronik.broker.groups.timers import Timers
from chronik.protocol.errors import ErrorCode
from chronik.storage.api import Storage
from chronik_protocol.messages.join_group_request import JoinGroupRequest
from chronik_protocol.messages.join_group_response import JoinGroupResponse, JoinGroupResponseMember
from chronik_protocol.messages.sync_group_request import SyncGroupRequest
from chronik_protocol.messages.sync_group_response import SyncGroupResponse

log = logging.getLogger("chronik.groups")

UNKNOWN_MEMBER_ID = ""
NEW_MEMBER_JOIN_TIMEOUT_MS = 5 * 60 * 1000  # Kafka's classicGroupNewMemberJoinTimeoutMs
EMPTY = GroupState.EMPTY
PREPARING = GroupState.PREPARING_REBALANCE
COMPLETING = GroupState.COMPLETING_REBALANCE
STABLE = GroupState.STABLE
DEAD = GroupState.DEAD


@dataclass(frozen=True, slots=True)
class GroupConfig:
    """The broker configs the coordinator follows (Kafka's ``GroupCoordinatorConfig``)."""

    min_session_timeout_ms: int = 6000
    max_session_timeout_ms: int = 1800000
    initial_rebalance_delay_ms: int = 3000
    max_size: int = 2**31 - 1
    offsets_retention_ms: int = 7 * 24 * 3600 * 1000
    offsets_retention_check_ms: int = 600000
    offset_metadata_max_bytes: int = 4096

    @classmethod
    def from_broker(cls, config: Any) -> GroupConfig:
        return cls(
            min_session_timeout_ms=int(config.get("group.min.session.timeout.ms")),
            max_session_timeout_ms=int(config.get("group.max.session.timeout.ms")),
            initial_rebalance_delay_ms=int(config.get("group.initial.rebalance.delay.ms")),
            max_size=int(config.get("group.max.size")),
            offsets_retention_ms=int(config.get("offsets.retention.minutes")) * 60000,
            offsets_retention_check_ms=int(config.get("offsets.retention.check.interval.ms")),
            offset_metadata_max_bytes=int(config.get("offset.metadata.max.bytes")),
        )


class GroupCoordinator:
    """Every group of this broker (the single node coordinates all of them)."""

    def __init__(
        self,
        storage: Storage,
        config: GroupConfig,
        *,
        now_ms: Callable[[], int],
        call_later: Callable[[float, Callable[[], None]], Any] | None,
    ) -> None:
        self.config = config
        self.now_ms = now_ms
        self.store = GroupStore(storage)
        self.timers = Timers(call_later)
        self.groups, loaded = self.store.load(now_ms())
        self.offsets = OffsetStore(self.store, loaded)
        for gid in self.offsets.group_ids():
            if gid not in self.groups:  # offsets of a group using only the offset APIs
                self.groups[gid] = ClassicGroup(gid, now_ms())
        for group in self.groups.values():  # loaded members must heartbeat within their session
            for member in group.members.values():
                self._reschedule_heartbeat(group, member)
        self.rebalances = 0  # completed join phases (for tests and metrics)
        #: extra per-group handlers (the KIP-848 coordinator registers itself here)
        self.extensions: list[Any] = []
        self._schedule_cleanup()

    # ---- helpers ---------------------------------------------------------------------------------

    def _persist(self, group: ClassicGroup, assignment: dict[str, bytes] | None = None) -> None:
        self.store.write(groups={group.group_id: encode_group(group, assignment)})

    def _reschedule_heartbeat(self, group: ClassicGroup, member: Member, timeout_ms: int | None = None) -> None:
        gid, mid = group.group_id, member.member_id
        delay = member.session_timeout_ms if timeout_ms is None else timeout_ms
        self.timers.schedule(("hb", gid, mid), delay, lambda: self._expire_heartbeat(gid, mid))

    def _cancel_heartbeat(self, group: ClassicGroup, member_id: str) -> None:
        self.timers.cancel(("hb", group.group_id, member_id))

    def _join_response(
        self, group: ClassicGroup, member_id: str, *, members: bool, skip: bool = False
    ) -> JoinGroupResponse:
        listed = []
        if members:
            listed = [
                JoinGroupResponseMember(m.member_id, m.group_instance_id, m.metadata(group.protocol_name))
                for m in group.members.values()
            ]
        return JoinGroupResponse(
            generation_id=group.generation_id,
            protocol_type=group.protocol_type,
            protocol_name=group.protocol_name,  # type: ignore[arg-type]  # null in v7+ when unset
            leader=group.leader_id or "",
            skip_assignment=skip,
            member_id=member_id,
            members=listed,
        )

    @staticmethod
    def _join_error(member_id: str, error: int) -> JoinGroupResponse:
        return JoinGroupResponse(error_code=error, member_id=member_id, protocol_name=None)  # type: ignore[arg-type]

    @staticmethod
    def _complete_join(member: Member, response: JoinGroupResponse) -> bool:
        respond, member.awaiting_join = member.awaiting_join, None
        if respond is None:
            return False
        respond(response)
        return True

    @staticmethod
    def _complete_sync(member: Member, response: SyncGroupResponse) -> bool:
        respond, member.awaiting_sync = member.awaiting_sync, None
        if respond is None:
            return False
        respond(response)
        return True

    def _validate_existing_member(self, group: ClassicGroup, member_id: str, instance_id: str | None) -> int:
        if instance_id is None:
            return ErrorCode.NONE if group.has_member(member_id) else ErrorCode.UNKNOWN_MEMBER_ID
        existing = group.static_member_id(instance_id)
        if existing is None:
            return ErrorCode.UNKNOWN_MEMBER_ID
        if existing != member_id:
            log.info(
                "group %s: member %s with instance id %s is fenced by %s",
                group.group_id,
                member_id,
                instance_id,
                existing,
            )
            return ErrorCode.FENCED_INSTANCE_ID
        return ErrorCode.NONE

    def session_timeout_error(self, session_timeout_ms: int) -> bool:
        c = self.config
        return not c.min_session_timeout_ms <= session_timeout_ms <= c.max_session_timeout_ms

    # ---- JoinGroup -------------------------------------------------------------------------------

    def join(self, req: JoinGroupRequest, version: int, client_id: str, client_host: str, respond: Respond) -> None:
        """Handle a JoinGroup; ``respond`` gets the JoinGroupResponse (now or when the join phase ends)."""
        if not req.group_id:
            respond(self._join_error(req.member_id, ErrorCode.INVALID_GROUP_ID))
            return
        if self.session_timeout_error(req.session_timeout_ms):
            respond(self._join_error(req.member_id, ErrorCode.INVALID_SESSION_TIMEOUT))
            return
        for ext in self.extensions:  # an Empty KIP-848 group gives way; a live one refuses classic members
            if ext.owns(req.group_id) and not ext.drop_if_empty(req.group_id):
                respond(self._join_error(req.member_id, ErrorCode.INCONSISTENT_GROUP_PROTOCOL))
                return
        unknown = req.member_id == UNKNOWN_MEMBER_ID
        group = self.groups.get(req.group_id)
        if group is None:
            if not unknown:
                respond(self._join_error(req.member_id, ErrorCode.UNKNOWN_MEMBER_ID))
                return
            group = self.groups[req.group_id] = ClassicGroup(req.group_id, self.now_ms())
        rebalance_ms = req.session_timeout_ms if version == 0 else req.rebalance_timeout_ms
        protocols = [(p.name, bytes(p.metadata)) for p in req.protocols]
        if not self._accept_joining_member(group, req.member_id):
            group.remove(req.member_id)
            respond(self._join_error(UNKNOWN_MEMBER_ID, ErrorCode.GROUP_MAX_SIZE_REACHED))
        elif unknown:
            self._join_new_member(group, req, version, protocols, rebalance_ms, client_id, client_host, respond)
        else:
            self._join_existing_member(group, req, protocols, rebalance_ms, client_id, client_host, respond)
        if group.is_state(PREPARING) and group.has_all_members_joined() and group.generation_id != 0:
            self._complete_join_phase(group)

    def _accept_joining_member(self, group: ClassicGroup, member_id: str) -> bool:
        if group.is_state(EMPTY, DEAD):
            return True
        if group.is_state(PREPARING):
            member = group.members.get(member_id)
            return (member is not None and member.awaiting_join is not None) or (
                group.awaiting_join_count() < self.config.max_size
            )
        return group.has_member(member_id) or len(group.members) < self.config.max_size

    def _join_new_member(
        self,
        group: ClassicGroup,
        req: JoinGroupRequest,
        version: int,
        protocols: list[tuple[str, bytes]],
        rebalance_ms: int,
        client_id: str,
        client_host: str,
        respond: Respond,
    ) -> None:
        if group.is_state(DEAD):
            respond(self._join_error(req.member_id, ErrorCode.COORDINATOR_NOT_AVAILABLE))
            return
        if not group.supports_protocols(req.protocol_type, protocols):
            respond(self._join_error(req.member_id, ErrorCode.INCONSISTENT_GROUP_PROTOCOL))
            return
        instance = req.group_instance_id
        new_id = f"{instance if instance is not None else client_id}-{uuid.uuid4()}"
        if instance is not None:
            old_id = group.static_member_id(instance)
            if old_id is not None:
                self._replace_static_member(
                    group, req, version, instance, old_id, new_id, protocols, rebalance_ms, respond
                )
                return
        elif version >= 4:  # KIP-394: hand out the id, expect the member back with it
            group.pending_members.add(new_id)
            gid = group.group_id
            self.timers.schedule(
                ("hb", gid, new_id), req.session_timeout_ms, lambda: self._expire_heartbeat(gid, new_id)
            )
            respond(self._join_error(new_id, ErrorCode.MEMBER_ID_REQUIRED))
            return
        self._add_member_and_rebalance(group, req, new_id, protocols, rebalance_ms, client_id, client_host, respond)

    def _add_member_and_rebalance(
        self,
        group: ClassicGroup,
        req: JoinGroupRequest,
        member_id: str,
        protocols: list[tuple[str, bytes]],
        rebalance_ms: int,
        client_id: str,
        client_host: str,
        respond: Respond,
    ) -> None:
        member = Member(
            member_id,
            req.group_instance_id,
            client_id,
            client_host,
            rebalance_ms,
            req.session_timeout_ms,
            req.protocol_type,
            protocols,
            is_new=True,
        )
        if group.is_state(PREPARING) and group.previous_state == EMPTY:
            group.new_member_added = True
        group.add(member, respond)
        self._reschedule_heartbeat(group, member, NEW_MEMBER_JOIN_TIMEOUT_MS)
        self._maybe_prepare_rebalance(group, f"adding new member {member_id}")

    def _replace_static_member(
        self,
        group: ClassicGroup,
        req: JoinGroupRequest,
        version: int,
        instance: str,
        old_id: str,
        new_id: str,
        protocols: list[tuple[str, bytes]],
        rebalance_ms: int,
        respond: Respond,
    ) -> None:
        """KIP-345: the rejoining static member takes the old member's place. In a Stable group with an
        unchanged protocol there is no rebalance: from JoinGroup v9 a returning leader gets the member
        list with ``skip_assignment`` (KIP-814); before v9 the answer names the *old* leader id and no
        members, so the client acts as a follower and keeps the stored assignment, as Kafka does."""
        log.info("group %s: static member %s replaces member %s with %s", group.group_id, instance, old_id, new_id)
        leader_before = group.leader_id
        old = group.members[old_id]
        self._complete_join(old, self._join_error(old_id, ErrorCode.FENCED_INSTANCE_ID))
        self._complete_sync(old, SyncGroupResponse(error_code=ErrorCode.FENCED_INSTANCE_ID))
        self._cancel_heartbeat(group, old_id)
        member = group.replace_static_member(instance, old_id, new_id)
        self._reschedule_heartbeat(group, member)
        group.update_member(member, protocols, rebalance_ms, req.session_timeout_ms, respond)
        if group.is_state(STABLE):
            if (group.protocol_name or "") == group.select_protocol():
                self._persist(group)
                leader = group.is_leader(new_id)
                if version >= 9:
                    response = self._join_response(group, new_id, members=leader, skip=leader)
                else:
                    response = self._join_response(group, new_id, members=False)
                    response.leader = leader_before or ""
                self._complete_join(member, response)
            else:
                self._maybe_prepare_rebalance(group, f"static member {instance} changed the selected protocol")
        elif group.is_state(COMPLETING):
            self._prepare_rebalance(group, f"updating metadata for static member {instance}")

    def _join_existing_member(
        self,
        group: ClassicGroup,
        req: JoinGroupRequest,
        protocols: list[tuple[str, bytes]],
        rebalance_ms: int,
        client_id: str,
        client_host: str,
        respond: Respond,
    ) -> None:
        mid = req.member_id
        if group.is_state(DEAD):
            respond(self._join_error(mid, ErrorCode.COORDINATOR_NOT_AVAILABLE))
            return
        if not group.supports_protocols(req.protocol_type, protocols):
            respond(self._join_error(mid, ErrorCode.INCONSISTENT_GROUP_PROTOCOL))
            return
        if mid in group.pending_members:
            self._add_member_and_rebalance(group, req, mid, protocols, rebalance_ms, client_id, client_host, respond)
            return
        error = self._validate_existing_member(group, mid, req.group_instance_id)
        if error:
            respond(self._join_error(mid, error))
            return
        member = group.members[mid]
        if group.is_state(PREPARING):
            self._update_member_and_rebalance(group, member, protocols, rebalance_ms, req.session_timeout_ms, respond)
        elif group.is_state(COMPLETING):
            if member.matches(protocols):
                respond(self._join_response(group, mid, members=group.is_leader(mid)))
            else:
                self._update_member_and_rebalance(
                    group, member, protocols, rebalance_ms, req.session_timeout_ms, respond
                )
        elif group.is_state(STABLE):
            if group.is_leader(mid) or not member.matches(protocols):
                self._update_member_and_rebalance(
                    group, member, protocols, rebalance_ms, req.session_timeout_ms, respond
                )
            else:
                respond(self._join_response(group, mid, members=False))
        else:  # Empty: let the member reset its generation and rejoin
            respond(self._join_error(mid, ErrorCode.UNKNOWN_MEMBER_ID))

    def _update_member_and_rebalance(
        self,
        group: ClassicGroup,
        member: Member,
        protocols: list[tuple[str, bytes]],
        rebalance_ms: int,
        session_ms: int,
        respond: Respond,
    ) -> None:
        previous = member.awaiting_join
        group.update_member(member, protocols, rebalance_ms, session_ms, respond)
        if previous is not None and previous is not respond:  # a duplicate JoinGroup: answer the older one
            previous(self._join_error(member.member_id, ErrorCode.REBALANCE_IN_PROGRESS))
        self._maybe_prepare_rebalance(group, f"member {member.member_id} rejoined with new metadata or as leader")

    # ---- the join phase --------------------------------------------------------------------------

    def _maybe_prepare_rebalance(self, group: ClassicGroup, reason: str) -> None:
        if group.can_rebalance():
            self._prepare_rebalance(group, reason)
        elif group.is_state(PREPARING) and group.has_all_members_joined() and group.previous_state != EMPTY:
            self._complete_join_phase(group)

    def _prepare_rebalance(self, group: ClassicGroup, reason: str) -> None:
        if group.is_state(COMPLETING):
            self._reset_and_propagate_assignment(group, ErrorCode.REBALANCE_IN_PROGRESS)
        self.timers.cancel(("sync", group.group_id))
        initial = group.is_state(EMPTY)
        gid = group.group_id
        if initial:
            delay = self.config.initial_rebalance_delay_ms
            remaining = max(group.rebalance_timeout_ms() - delay, 0)
            self.timers.schedule(("join", gid), delay, lambda: self._try_complete_initial(gid, delay, remaining))
        group.transition(PREPARING, self.now_ms())
        log.info("group %s: preparing to rebalance (generation %d): %s", gid, group.generation_id, reason)
        if not initial:
            if group.has_all_members_joined():
                self._complete_join_phase(group)
            else:
                self.timers.schedule(
                    ("join", gid), group.rebalance_timeout_ms(), lambda: self._complete_join_by_id(gid)
                )

    def _try_complete_initial(self, gid: str, delay: int, remaining: int) -> None:
        group = self.groups.get(gid)
        if group is None or not group.is_state(PREPARING):
            return
        if group.new_member_added and remaining:
            group.new_member_added = False
            new_delay = min(self.config.initial_rebalance_delay_ms, remaining)
            new_remaining = max(remaining - delay, 0)
            self.timers.schedule(
                ("join", gid), new_delay, lambda: self._try_complete_initial(gid, new_delay, new_remaining)
            )
        else:
            self._complete_join_phase(group)

    def _complete_join_by_id(self, gid: str) -> None:
        group = self.groups.get(gid)
        if group is not None and group.is_state(PREPARING):
            self._complete_join_phase(group)

    def _complete_join_phase(self, group: ClassicGroup) -> None:
        gid = group.group_id
        self.timers.cancel(("join", gid))
        for m in group.not_yet_rejoined():
            if m.group_instance_id is None:
                group.remove(m.member_id)
                self._cancel_heartbeat(group, m.member_id)
                log.info("group %s: removed member %s, which did not rejoin", gid, m.member_id)
        if group.is_state(DEAD):
            return
        if not group.maybe_elect_new_joined_leader() and group.members:
            log.error("group %s: no member rejoined; waiting for their sessions to expire", gid)
            self.timers.schedule(("join", gid), group.rebalance_timeout_ms(), lambda: self._complete_join_by_id(gid))
            return
        group.init_next_generation(self.now_ms())
        self.rebalances += 1
        if group.is_state(EMPTY):
            log.info("group %s: generation %d is empty", gid, group.generation_id)
            self._persist(group)
            return
        log.info("group %s: generation %d with %d members", gid, group.generation_id, len(group.members))
        for member in list(group.members.values()):
            response = self._join_response(group, member.member_id, members=group.is_leader(member.member_id))
            self._complete_join(member, response)
            self._reschedule_heartbeat(group, member)
            member.is_new = False
            group.pending_sync.add(member.member_id)
        generation = group.generation_id
        self.timers.schedule(
            ("sync", gid), group.rebalance_timeout_ms(), lambda: self._expire_pending_sync(gid, generation)
        )

    def _expire_pending_sync(self, gid: str, generation: int) -> None:
        group = self.groups.get(gid)
        if group is None or generation != group.generation_id or not group.is_state(COMPLETING, STABLE):
            return
        if group.pending_sync:
            missing = sorted(group.pending_sync)
            for mid in missing:
                group.remove(mid)
                self._cancel_heartbeat(group, mid)
            self._prepare_rebalance(group, f"removing {missing} on pending sync request expiration")

    def _remove_pending_sync(self, group: ClassicGroup, member_id: str) -> None:
        group.pending_sync.discard(member_id)
        if not group.pending_sync or not group.is_state(COMPLETING, STABLE):
            self.timers.cancel(("sync", group.group_id))

    # ---- heartbeats and expiry -------------------------------------------------------------------

    def _expire_heartbeat(self, gid: str, member_id: str) -> None:
        group = self.groups.get(gid)
        if group is None or group.is_state(DEAD):
            return
        if member_id in group.pending_members:
            log.info("group %s: pending member %s expired", gid, member_id)
            group.remove(member_id)
            if group.is_state(PREPARING) and group.has_all_members_joined():
                self._complete_join_phase(group)
            return
        member = group.members.get(member_id)
        if member is None or member.has_satisfied_heartbeat():
            return
        log.info("group %s: member %s failed (session timeout), removing it", gid, member_id)
        self._remove_member_and_update(group, member, "heartbeat expiration")

    def _remove_member_and_update(self, group: ClassicGroup, member: Member, reason: str) -> None:
        self._complete_join(member, self._join_error(UNKNOWN_MEMBER_ID, ErrorCode.UNKNOWN_MEMBER_ID))
        group.remove(member.member_id)
        if group.is_state(STABLE, COMPLETING):
            self._maybe_prepare_rebalance(group, f"removing member {member.member_id} on {reason}")
        elif group.is_state(PREPARING) and group.has_all_members_joined():
            self._complete_join_phase(group)

    def heartbeat(self, group_id: str, generation: int, member_id: str, instance_id: str | None) -> int:
        """A Heartbeat's error code; resets the member's session timer."""
        if not group_id:
            return ErrorCode.INVALID_GROUP_ID
        for ext in self.extensions:
            if ext.owns(group_id):
                return ErrorCode.UNKNOWN_MEMBER_ID
        group = self.groups.get(group_id)
        if group is None:
            return ErrorCode.UNKNOWN_MEMBER_ID
        if group.is_state(DEAD):
            return ErrorCode.COORDINATOR_NOT_AVAILABLE
        error = self._validate_existing_member(group, member_id, instance_id)
        if error:
            return error
        if generation != group.generation_id:
            return ErrorCode.ILLEGAL_GENERATION
        if group.is_state(EMPTY):
            return ErrorCode.UNKNOWN_MEMBER_ID
        self._reschedule_heartbeat(group, group.members[member_id])
        return ErrorCode.REBALANCE_IN_PROGRESS if group.is_state(PREPARING) else ErrorCode.NONE

    # ---- SyncGroup -------------------------------------------------------------------------------

    def sync(self, req: SyncGroupRequest, respond: Respond) -> None:
        """Handle a SyncGroup; ``respond`` gets the SyncGroupResponse (the leader's assignment)."""
        if not req.group_id:
            respond(SyncGroupResponse(error_code=ErrorCode.INVALID_GROUP_ID))
            return
        group = self.groups.get(req.group_id)
        if group is None or any(ext.owns(req.group_id) for ext in self.extensions):
            respond(SyncGroupResponse(error_code=ErrorCode.UNKNOWN_MEMBER_ID))
            return
        error = self._validate_sync(group, req)
        if error:
            respond(SyncGroupResponse(error_code=error))
        elif group.is_state(PREPARING):
            respond(SyncGroupResponse(error_code=ErrorCode.REBALANCE_IN_PROGRESS))
        elif group.is_state(COMPLETING):
            member = group.members[req.member_id]
            previous = member.awaiting_sync
            member.awaiting_sync = respond
            if previous is not None:
                previous(SyncGroupResponse(error_code=ErrorCode.REBALANCE_IN_PROGRESS))
            self._remove_pending_sync(group, req.member_id)
            if group.is_leader(req.member_id):
                assignment = {a.member_id: bytes(a.assignment) for a in req.assignments}
                for mid in group.members:
                    assignment.setdefault(mid, b"")
                log.info(
                    "group %s: assignment received from leader for generation %d", group.group_id, group.generation_id
                )
                self._persist(group, assignment)
                for m in group.members.values():
                    m.assignment = assignment[m.member_id]
                self._propagate_assignment(group, ErrorCode.NONE)
                group.transition(STABLE, self.now_ms())
        elif group.is_state(STABLE):
            self._remove_pending_sync(group, req.member_id)
            member = group.members[req.member_id]
            respond(
                SyncGroupResponse(
                    protocol_type=group.protocol_type, protocol_name=group.protocol_name, assignment=member.assignment
                )
            )
        else:
            respond(SyncGroupResponse(error_code=ErrorCode.UNKNOWN_MEMBER_ID))

    def _validate_sync(self, group: ClassicGroup, req: SyncGroupRequest) -> int:
        if group.is_state(DEAD):
            return ErrorCode.COORDINATOR_NOT_AVAILABLE
        error = self._validate_existing_member(group, req.member_id, req.group_instance_id)
        if error:
            return error
        if req.generation_id != group.generation_id:
            return ErrorCode.ILLEGAL_GENERATION
        for asked, have in ((req.protocol_type, group.protocol_type), (req.protocol_name, group.protocol_name)):
            if asked is not None and have is not None and asked != have:
                return ErrorCode.INCONSISTENT_GROUP_PROTOCOL
        return ErrorCode.NONE

    def _propagate_assignment(self, group: ClassicGroup, error: int) -> None:
        for member in group.members.values():
            response = SyncGroupResponse(
                error_code=error,
                protocol_type=group.protocol_type if not error else None,
                protocol_name=group.protocol_name if not error else None,
                assignment=member.assignment,
            )
            if self._complete_sync(member, response):
                self._reschedule_heartbeat(group, member)

    def _reset_and_propagate_assignment(self, group: ClassicGroup, error: int) -> None:
        for member in group.members.values():
            member.assignment = b""
        self._propagate_assignment(group, error)

    # ---- LeaveGroup ------------------------------------------------------------------------------

    def leave(self, group_id: str, members: list[tuple[str, str | None]]) -> tuple[int, list[int]]:
        """(top-level error, per-member errors) for leaving ``(member id, group instance id)`` pairs."""
        if not group_id:
            return ErrorCode.INVALID_GROUP_ID, []
        group = self.groups.get(group_id)
        if group is None or any(ext.owns(group_id) for ext in self.extensions):
            return ErrorCode.UNKNOWN_MEMBER_ID, []
        if group.is_state(DEAD):
            return ErrorCode.COORDINATOR_NOT_AVAILABLE, []
        errors = []
        for member_id, instance in members:
            if member_id == UNKNOWN_MEMBER_ID:
                static = group.static_member_id(instance)
                if static is not None:
                    self._remove_current_member(group, static)
                    errors.append(ErrorCode.NONE)
                else:
                    errors.append(ErrorCode.UNKNOWN_MEMBER_ID)
            elif member_id in group.pending_members:
                group.remove(member_id)
                self._cancel_heartbeat(group, member_id)
                errors.append(ErrorCode.NONE)
            else:
                error = ErrorCode.NONE
                if instance is not None:
                    existing = group.static_member_id(instance)
                    if existing is None:
                        error = ErrorCode.UNKNOWN_MEMBER_ID
                    elif existing != member_id:
                        error = ErrorCode.FENCED_INSTANCE_ID
                if not error and not group.has_member(member_id):
                    error = ErrorCode.UNKNOWN_MEMBER_ID
                if not error:
                    self._remove_current_member(group, member_id)
                errors.append(error)
        if any(e == ErrorCode.NONE for e in errors):
            if group.is_state(STABLE, COMPLETING):
                self._maybe_prepare_rebalance(group, "explicit LeaveGroup")
            elif group.is_state(PREPARING) and group.has_all_members_joined() and group.previous_state != EMPTY:
                self._complete_join_phase(group)
        return ErrorCode.NONE, errors

    def _remove_current_member(self, group: ClassicGroup, member_id: str) -> None:
        member = group.members[member_id]
        self._cancel_heartbeat(group, member_id)
        log.info("group %s: member %s left", group.group_id, member_id)
        self._complete_join(member, self._join_error(UNKNOWN_MEMBER_ID, ErrorCode.UNKNOWN_MEMBER_ID))
        group.remove(member_id)

    # ---- offsets ---------------------------------------------------------------------------------

    def validate_offset_commit(
        self, group_id: str, generation: int, member_id: str, instance_id: str | None, version: int
    ) -> int | Callable[[str, int], int]:
        """The error for every partition of an OffsetCommit (``ClassicGroup.validateOffsetCommit``).

        A commit with generation -1 to an unknown group creates it Empty (assign()-only consumers
        and admin tools); a commit with a generation to an unknown group is GROUP_ID_NOT_FOUND from v9
        (works for both protocols), ILLEGAL_GENERATION before (``OffsetMetadataManager``). An
        empty group id is a group like any other (Kafka 4.4.0 accepts it). A KIP-848 group may answer
        per partition (a callable ``(topic, partition) -> error``)."""
        for ext in self.extensions:
            if ext.owns(group_id):
                return ext.validate_offset_commit(group_id, generation, member_id, version)  # type: ignore[no-any-return]
        group = self.groups.get(group_id)
        if group is None:
            if generation >= 0:
                return ErrorCode.GROUP_ID_NOT_FOUND if version >= 9 else ErrorCode.ILLEGAL_GENERATION
            group = self.groups[group_id] = ClassicGroup(group_id, self.now_ms())
        if group.is_state(DEAD):
            return ErrorCode.COORDINATOR_NOT_AVAILABLE
        if generation < 0 and group.is_state(EMPTY):
            return ErrorCode.NONE
        if generation >= 0 or member_id or instance_id is not None:
            error = self._validate_existing_member(group, member_id, instance_id)
            if error:
                return error
            if generation != group.generation_id:
                return ErrorCode.ILLEGAL_GENERATION
        elif not group.is_state(EMPTY):
            return ErrorCode.UNKNOWN_MEMBER_ID
        if group.is_state(COMPLETING):
            return ErrorCode.REBALANCE_IN_PROGRESS
        return ErrorCode.NONE

    def validate_offset_fetch(self, group_id: str, member_id: str | None, member_epoch: int) -> int:
        """OffsetFetch v9+ from a KIP-848 member checks its epoch; classic groups accept any fetch."""
        for ext in self.extensions:
            if ext.owns(group_id):
                return int(ext.validate_offset_fetch(group_id, member_id, member_epoch))
        return ErrorCode.NONE

    def group_protocol_type(self, group_id: str) -> str | None:
        group = self.groups.get(group_id)
        return None if group is None else group.protocol_type

    # ---- cleanup: offset retention, empty groups ---------------------------------------------------

    def _schedule_cleanup(self) -> None:
        self.timers.schedule(("cleanup",), self.config.offsets_retention_check_ms, self._cleanup)

    def _cleanup(self) -> None:
        try:
            self.cleanup_expired()
        finally:
            self._schedule_cleanup()

    def cleanup_expired(self) -> int:
        """Expire offsets past ``offsets.retention.minutes`` (Kafka's rules per group state) and
        delete Empty groups left without offsets; returns how many offsets expired."""
        now = self.now_ms()
        expired = 0
        for gid in list(self.groups):
            group = self.groups[gid]
            base = self._expiration_base(group)
            if base is not None:
                expired += self.offsets.expire(gid, now, self.config.offsets_retention_ms, base, group.is_subscribed_to)
            if group.is_state(EMPTY) and not self.offsets.has_offsets(gid):
                self._delete_group(gid)
        for ext in self.extensions:
            expired += ext.cleanup(now, self.config.offsets_retention_ms)
        return expired

    @staticmethod
    def _expiration_base(group: ClassicGroup) -> Callable[[Any], int] | None:
        if group.protocol_type:
            if group.is_state(EMPTY):
                return lambda o: group.state_timestamp
            if (
                group.protocol_type == CONSUMER_PROTOCOL_TYPE
                and group.subscribed_topics is not None
                and group.is_state(STABLE)
            ):
                return lambda o: o.commit_ms
            return None
        return lambda o: o.commit_ms

    def _delete_group(self, gid: str) -> None:
        group = self.groups.pop(gid, None)
        if group is None:
            return
        group.transition(DEAD, self.now_ms())
        for mid in list(group.members):
            self._cancel_heartbeat(group, mid)
        for key in (("join", gid), ("sync", gid)):
            self.timers.cancel(key)
        self.store.write(groups={gid: None}, offsets=self.offsets.delete_group_changes(gid))
        log.info("group %s deleted", gid)

    def delete_group(self, group_id: str) -> int:
        """DeleteGroups for one classic group: its offsets and metadata go (Empty groups only)."""
        if not group_id:
            return ErrorCode.INVALID_GROUP_ID
        group = self.groups.get(group_id)
        if group is None or group.is_state(DEAD):
            return ErrorCode.GROUP_ID_NOT_FOUND
        if not group.is_state(EMPTY):
            return ErrorCode.NON_EMPTY_GROUP
        self._delete_group(group_id)
        return ErrorCode.NONE

    def topic_deleted(self, topic: str) -> None:
        """Kafka deletes every group's committed offsets of a deleted topic."""
        self.offsets.delete_topic(topic)

    def close(self) -> None:
        self.timers.cancel_all()
