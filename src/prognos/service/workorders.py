"""Work orders through their lifecycle, and the findings they feed back to the models.

Only the manufacturer moves orders (its crews do the work); customers see theirs. Completing an
order needs the crew's finding: it becomes a labelled event that training reads, and a replaced
part starts a new life for its asset.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from prognos.domain import Asset, Principal
from prognos.domain.planning import Finding, WorkOrder, WorkOrderStatus
from prognos.errors import NotFound, ValidationFailed
from prognos.service.registry import RegistryService
from prognos.store.ports import DocumentsPort, Kind

OWN = "its crews do the work; customers see their orders"
# The panel's work-order buttons and the lifecycle moves they make (completing is its own).
ACTIONS = {"dispatch": WorkOrderStatus.dispatched, "start": WorkOrderStatus.in_progress}
FINAL = {WorkOrderStatus.done, WorkOrderStatus.cancelled}


class WorkOrderService:
    def __init__(self, documents: DocumentsPort, registry: RegistryService):
        self._docs = documents
        self._registry = registry
        self._done: list[Callable[[Principal, WorkOrder], Any]] = []

    def on_done(self, listener: Callable[[Principal, WorkOrder], Any]) -> None:
        """Call ``listener`` with each order completed (alarms clear theirs)."""
        self._done.append(listener)

    def save(self, p: Principal, o: WorkOrder, customer_id: str | None = None) -> WorkOrder:
        """Store a work order as the document the planner, the API and the panel share."""
        p.require_manufacturer(OWN)
        if customer_id is None:
            a = self._registry.snapshot().assets.get(o.asset_id)
            if a is None:
                raise NotFound(f"work order {o.id}: asset {o.asset_id!r} does not exist")
            customer_id = a.customer_id
        self._docs.put_document(
            Kind.workorder,
            o.id,
            o.model_dump(mode="json"),
            customer_id=customer_id,
            asset_id=o.asset_id,
            status=o.status.value,
        )
        return o

    def save_many(self, p: Principal, orders: list[WorkOrder]) -> list[WorkOrder]:
        """Store many work orders in one transaction (a plan's changes, an import)."""
        p.require_manufacturer(OWN)
        assets = self._registry.snapshot().assets
        missing = [o.asset_id for o in orders if o.asset_id not in assets]
        if missing:
            raise NotFound(f"work orders for assets that do not exist: {', '.join(missing[:5])}")
        self._docs.put_documents(
            Kind.workorder,
            [
                (
                    o.id,
                    o.model_dump(mode="json"),
                    assets[o.asset_id].customer_id,
                    o.asset_id,
                    o.status.value,
                )
                for o in orders
            ],
        )
        return orders

    def list_orders(
        self, p: Principal, status: str | None = None, asset_id: str | None = None
    ) -> list[WorkOrder]:
        """Work orders the caller may see, soonest first (done and cancelled last)."""
        docs = self._docs.list_documents(
            Kind.workorder,
            customer_id=None if p.is_manufacturer else p.customer_id,
            asset_id=asset_id,
            status=status or None,
        )
        orders = [WorkOrder.model_validate(d) for d in docs]
        return sorted(orders, key=lambda o: (o.status in FINAL, o.day, o.id))

    def get(self, p: Principal, order_id: str) -> WorkOrder:
        body = self._docs.get_document(Kind.workorder, order_id)
        if body is None:
            raise NotFound(f"work order {order_id!r} not found")
        o = WorkOrder.model_validate(body)
        a = self._registry.snapshot().assets.get(o.asset_id)
        if a is None or not p.may_see(a.customer_id):
            raise NotFound(f"work order {order_id!r} not found")
        return o

    def transition(
        self, p: Principal, order_id: str, to: str, finding: Finding | None = None
    ) -> WorkOrder:
        """Move an order along its lifecycle; ``done`` needs the finding, which feeds the models."""
        p.require_manufacturer(OWN)
        o = self.get(p, order_id)
        asset = self._registry.asset(p, o.asset_id)
        if to == WorkOrderStatus.done:
            if finding is None:
                raise ValidationFailed(
                    f"completing work order {order_id} needs a finding",
                    hint="send condition, failure_found, part_replaced, measured_wear, at",
                )
            if o.status is WorkOrderStatus.dispatched:
                o = o.transition(WorkOrderStatus.in_progress, finding.at)
            o = o.complete(finding)
            self._feed_back(p, o, asset)
        else:
            o = o.transition(to)
        self.save(p, o, asset.customer_id)
        for listener in self._done if o.status is WorkOrderStatus.done else ():
            listener(p, o)
        return o

    def act(self, p: Principal, order_id: str, action: str) -> WorkOrder:
        """A panel button: dispatch or start an order."""
        p.require_manufacturer(OWN)
        if action not in ACTIONS:
            raise ValidationFailed(f"unknown action {action!r}", hint=f"use {', '.join(ACTIONS)}")
        return self.transition(p, order_id, ACTIONS[action].value)

    def complete(
        self,
        p: Principal,
        order_id: str,
        condition: str = "",
        measured_wear: float | None = None,
        failure_found: bool = False,
        part_replaced: bool = True,
        at: datetime | None = None,
    ) -> WorkOrder:
        """Mark an order done with the crew's findings (they become a labelled event)."""
        p.require_manufacturer(OWN)
        finding = Finding(
            condition=condition.strip(),
            measured_wear=measured_wear,
            failure_found=failure_found,
            part_replaced=part_replaced,
            at=at or datetime.now(UTC),
        )
        return self.transition(p, order_id, WorkOrderStatus.done.value, finding)

    def record_repair(
        self,
        p: Principal,
        asset_id: str,
        failed_at: datetime,
        back_at: datetime,
        condition: str = "failed in service; part replaced",
        component: str | None = None,
    ) -> WorkOrder:
        """A part failed and was replaced after an emergency repair: the repair is a work order
        of its own, done, whose finding is the labelled failure (age at ``failed_at``); the new
        part's life starts at ``back_at``. Planned orders of the failed part are cancelled: the
        job they planned has been done by the repair."""
        p.require_manufacturer(OWN)
        asset = self._registry.asset(p, asset_id)
        finding = Finding(condition=condition, failure_found=True, part_replaced=True, at=failed_at)
        o = WorkOrder(
            id=f"WO-{asset.id}-{failed_at:%Y%m%dT%H%M}-repair",
            asset_id=asset.id,
            component=component,
            site_id=asset.site_id,
            day=failed_at.date(),
        )
        for step in (WorkOrderStatus.scheduled, WorkOrderStatus.dispatched):
            o = o.transition(step, failed_at)
        o = o.transition(WorkOrderStatus.in_progress, failed_at).complete(finding)
        superseded = [
            x.transition(WorkOrderStatus.cancelled, failed_at)
            for x in self.list_orders(p, asset_id=asset.id)
            if x.status not in FINAL and x.component == component
        ]
        self.save_many(p, superseded)
        self._feed_back(p, o, asset, life_from=back_at)
        self.save(p, o, asset.customer_id)
        for listener in self._done:  # a repair is a completed order: alarms clear theirs
            listener(p, o)
        return o

    def event_done(self, p: Principal, asset: Asset, event: dict[str, Any]) -> None:
        """A replacement (or failure) loaded as an event does to alarms what a completed
        replacement order does: the done listeners see an order whose finding is the event
        (the order itself is not stored; the event is the record)."""
        at = datetime.fromisoformat(event["at"])
        finding = Finding(
            condition=event.get("note") or event["kind"],
            failure_found=event["kind"] == "failure",
            part_replaced=True,
            at=at,
        )
        o = WorkOrder(id=f"event-{event['id']}", asset_id=asset.id,
                      component=event.get("component"), site_id=asset.site_id, day=at.date())  # fmt: skip
        for step in (WorkOrderStatus.scheduled, WorkOrderStatus.dispatched):
            o = o.transition(step, at)
        o = o.transition(WorkOrderStatus.in_progress, at).complete(finding)
        for listener in self._done:
            listener(p, o)

    def _feed_back(
        self, p: Principal, o: WorkOrder, asset: Asset, life_from: datetime | None = None
    ) -> None:
        """The finding becomes a labelled event; a replaced part starts a new life for the asset
        (at ``life_from``, default the finding's time)."""
        event = o.feedback_event()
        t = self._registry.asset_type(p, asset.type_id)
        at = datetime.fromisoformat(event["at"])
        event.update(
            {
                "id": f"{o.id}-finding",
                "work_order": o.id,
                "life_start": asset.installed_at.isoformat(),
                "age": (at - asset.installed_at).total_seconds() / t.time_unit.seconds,
            }
        )
        self.record_event(p, asset.id, event)
        if event["resets_age"]:
            self._registry.restart_life(p, asset, life_from or at)

    def record_event(self, p: Principal, asset_id: str, event: dict[str, Any]) -> None:
        """Store a labelled event (failure, replacement) of an asset for training to read;
        the same ``id`` again replaces it (idempotent)."""
        p.require_manufacturer(OWN)
        asset = self._registry.asset(p, asset_id)
        self._docs.put_document(
            Kind.event,
            event["id"],
            event,
            customer_id=asset.customer_id,
            asset_id=asset.id,
            status=event["kind"],
        )

    def events(self, p: Principal, asset_id: str) -> list[dict[str, Any]]:
        """Labelled events (failures, replacements) of an asset the caller may see."""
        self._registry.asset(p, asset_id)
        return self._docs.list_documents(Kind.event, asset_id=asset_id)

    def failures(self, p: Principal) -> list[dict[str, Any]]:
        """Every labelled failure event (training reads them)."""
        p.require_manufacturer(OWN)
        return self._docs.list_documents(Kind.event, status="failure")
