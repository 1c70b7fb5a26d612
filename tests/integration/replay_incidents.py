"""Generated crisis incidents for tests/integration/replay_history.py: a call or text, its
dispatch and frozen policy, pages and their delivery reports (some before the PageSent they
follow, some failed and dialled again), escalations, replies and decisions, the resolution
and the post-crisis follow-up."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from dispatch.crisis.events import (
    CallerMessageRecorded,
    CrisisCallReceived,
    CrisisTextReceived,
    DispatchAcknowledged,
    DispatchOpened,
    DispatchResolved,
)
from dispatch.escalation.events import (
    DispatchEscalated,
    EscalationDeadlineReached,
    EscalationPlanFrozen,
)
from dispatch.events import Envelope
from dispatch.paging.events import (
    PageCancelled,
    PageDelivered,
    PageFailed,
    PageRedialScheduled,
    PageRequested,
    PageSent,
)
from dispatch.replies.events import StaffReplyDecided, StaffReplyReceived
from dispatch.risk.events import FollowUpClosed, FollowUpOpened
from tests.integration.replay_people import POLICY, Client, Team

if TYPE_CHECKING:
    from tests.integration.replay_history import Writer

CODE_LETTERS = "ABCDEFGHJKMNPQRSTVWXYZ23456789"


def _page(
    w: Writer,
    cause: Envelope,
    dispatch_id: object,
    staff: str,
    phone: str,
    step: int,
    at: datetime,
    channel: str = "sms",
) -> None:
    """A page asked for, sent, and reported delivered or failed (a failed SMS is dialled)."""
    key = cause.key
    req = w.add(
        PageRequested(
            notification_id=w.uuid(),
            dispatch_id=dispatch_id,
            step=step,
            attempt=0,
            channel=channel,
            staff_id=staff,
            to_number=phone,
            body="ACT CRISIS",
        ),
        key,
        at,
        cause=cause,
    )
    p = req.payload
    assert isinstance(p, PageRequested)
    ids = {"notification_id": p.notification_id, "dispatch_id": p.dispatch_id}
    sent_at = at + timedelta(seconds=w.rnd.uniform(0.3, 3))
    report_at = sent_at + timedelta(seconds=w.rnd.uniform(1, 20))
    sent = PageSent(
        **ids,
        channel=p.channel,
        provider_sid=f"SM{p.notification_id.hex[:8]}",
        provider_status="queued",
    )
    outcome = w.rnd.random()
    if outcome < 0.75:
        report = PageDelivered(**ids, provider_sid=sent.provider_sid, provider_status="delivered")
    else:
        report = PageFailed(
            **ids,
            channel=p.channel,
            reason="carrier: unreachable",
            provider_fault=False,
            provider_sid=sent.provider_sid,
        )
    first, second = (sent, sent_at), (report, report_at)
    if w.rnd.random() < 0.1:  # the delivery report reached us before the send was recorded
        first, second = second, first
    for payload, when in (first, second):
        w.add(payload, key, when, cause=req)
    if isinstance(report, PageFailed) and channel == "sms":
        w.add(
            PageRedialScheduled(
                notification_id=w.uuid(),
                failed_notification_id=p.notification_id,
                dispatch_id=p.dispatch_id,
                step=step,
                attempt=1,
                staff_id=staff,
                to_number=phone,
                body="ACT CRISIS",
                due_at=report_at + timedelta(seconds=60),
            ),
            key,
            report_at,
            cause=req,
        )


def _reply(
    w: Writer,
    opened: Envelope,
    code: str,
    staff: str,
    verb: str,
    at: datetime,
    accepted: bool,
    status: str,
    holder: str | None,
) -> Envelope:
    p = opened.payload
    assert isinstance(p, DispatchOpened)
    got = w.add(
        StaffReplyReceived(
            dispatch_id=p.dispatch_id,
            short_code=code,
            reply_id=f"SM{at:%s}",
            channel="sms",
            verb=verb,
            staff_id=staff,
            staff_team_id=p.team_id,
        ),
        opened.key,
        at,
        correlation=opened.correlation_id,
    )
    w.add(
        StaffReplyDecided(
            dispatch_id=p.dispatch_id,
            short_code=code,
            reply_event_id=got.event_id,
            channel="sms",
            verb=verb,
            staff_id=staff,
            accepted=accepted,
            reason="" if accepted else f"taken by {holder}",
            holder=holder,
            dispatch_status=status,
        ),
        opened.key,
        at,
        cause=got,
    )
    return got


def incident(w: Writer, t: Team, at: datetime) -> None:
    """One crisis contact from a client of the team, answered after 0-3 escalation steps."""
    c: Client = w.rnd.choice(t.clients)
    key, roll = c.client_id, w.rnd.random()
    if roll < 0.7:
        source = w.add(
            CrisisCallReceived(
                call_sid=f"CA{w.uuid().hex[:10]}",
                caller_number="+15550001111",
                caller_kind="client",
                client_id=key,
                team_id=t.team_id,
                dialled_staff_id=t.on_duty[0],
            ),
            key,
            at,
        )
        reason = "crisis_call"
    elif roll < 0.9:
        source = w.add(
            CrisisTextReceived(
                message_sid=f"SM{w.uuid().hex[:10]}",
                sender_number="+15550001111",
                caller_kind="client",
                client_id=key,
                team_id=t.team_id,
                body="help",
            ),
            key,
            at,
        )
        reason = "crisis_text"
    else:
        source, reason = w.events[-1], "risk_high"
    dispatch_id = w.uuid()
    code = "".join(w.rnd.choice(CODE_LETTERS) for _ in range(5))
    dkey = str(dispatch_id)
    opened = w.add(
        DispatchOpened(
            dispatch_id=dispatch_id,
            short_code=code,
            team_id=t.team_id,
            client_id=key,
            caller_kind="client",
            reason=reason,
            risk_level="crisis",
            source_event_id=source.event_id,
            assigned_staff_id=t.on_duty[0],
        ),
        dkey,
        at,
        cause=source,
        lag_s=0.4,
    )
    w.add(
        EscalationPlanFrozen(
            dispatch_id=dispatch_id, team_id=t.team_id, policy=POLICY, started_at=at
        ),
        dkey,
        at,
        cause=opened,
    )
    paged = [t.on_duty[0]]
    _page(w, opened, dispatch_id, paged[0], t.phones[paged[0]], 0, at)
    now = at
    for sequence in range(1, w.rnd.choice((1, 1, 1, 2, 2, 3))):
        now += timedelta(seconds=300)
        deadline = w.add(
            EscalationDeadlineReached(
                dispatch_id=dispatch_id, sequence=sequence - 1, deadline_at=now
            ),
            dkey,
            now,
            cause=opened,
        )
        staff = t.on_duty[sequence % len(t.on_duty)]
        w.add(
            DispatchEscalated(
                dispatch_id=dispatch_id,
                sequence=sequence,
                round=sequence // 2,
                step=sequence % 2,
                exhausted=False,
                reason="timeout",
                staff_ids=(staff,),
                deadline_at=now + timedelta(seconds=300),
            ),
            dkey,
            now,
            cause=deadline,
        )
        _page(
            w,
            deadline,
            dispatch_id,
            staff,
            t.phones[staff],
            sequence % 2,
            now,
            channel=w.rnd.choice(("sms", "voice")),
        )
        paged.append(staff)
    if reason == "crisis_call" and w.rnd.random() < 0.2:
        w.add(
            CallerMessageRecorded(
                call_sid="CA1",
                caller_number="+15550001111",
                client_id=key,
                team_id=t.team_id,
                recording_sid="RE1",
                recording_url="https://example.invalid/r",
                duration_s=30,
            ),
            key,
            at + timedelta(seconds=40),
        )
    if w.rnd.random() < 0.05:
        return  # never answered (yet)
    taker = paged[-1]
    now += timedelta(seconds=w.rnd.uniform(20, 280))
    ack = _reply(w, opened, code, taker, "ack", now, True, "acknowledged", taker)
    w.add(
        DispatchAcknowledged(dispatch_id=dispatch_id, staff_id=taker, via="sms"),
        dkey,
        now,
        cause=ack,
    )
    if len(paged) > 1:
        w.add(
            PageCancelled(
                notification_id=w.uuid(),
                dispatch_id=dispatch_id,
                channel="sms",
                staff_id=paged[0],
                reason="acknowledged",
            ),
            dkey,
            now,
        )
        _reply(
            w,
            opened,
            code,
            paged[0],
            "ack",
            now + timedelta(seconds=5),
            False,
            "acknowledged",
            taker,
        )
    done_at = now + timedelta(minutes=w.rnd.uniform(10, 240))
    done = _reply(w, opened, code, taker, "resolve", done_at, True, "resolved", taker)
    w.add(
        DispatchResolved(
            dispatch_id=dispatch_id, staff_id=taker, via="sms", outcome="seen at home"
        ),
        dkey,
        done_at,
        cause=done,
    )
    if reason != "risk_high":
        follow_up = w.uuid()
        c.open_follow_ups.append(follow_up)
        w.add(
            FollowUpOpened(
                follow_up_id=follow_up,
                client_id=key,
                team_id=t.team_id,
                dispatch_id=dispatch_id,
                due_at=done_at + timedelta(hours=24),
            ),
            key,
            done_at,
        )


def close_follow_ups(w: Writer, c: Client, at: datetime, visit: Envelope) -> None:
    for follow_up in c.open_follow_ups:
        w.add(
            FollowUpClosed(
                follow_up_id=follow_up,
                client_id=c.client_id,
                team_id=c.team_id,
                contact_event_id=visit.event_id,
            ),
            c.client_id,
            at,
        )
    c.open_follow_ups.clear()
