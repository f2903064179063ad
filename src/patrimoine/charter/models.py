"""Tables of the charter: the charter as the authority writes it, its stored evaluations,
its deviations and its action plan.

- `charter_settings` (one row): the charter's title, the roles that approve deviations,
  whether the register of deviations is public.
- `charter_engagement`: one engagement (code, title, text); `charter_rule_setting`: a rule
  serving it, with its parameters; a row with an `organisation_id` overrides them (or
  switches the rule off) for that organisation.
- `charter_run` / `charter_run_rule`: one evaluation and each rule's counts;
  `charter_failure`: the items failing (or under a deviation) now, with when they began.
- `charter_deviation`: a documented deviation (dérogation) on a rule, for one item or a
  scope (an organisation, or everything when none), from `starts_on` to `expires_on`.
- `charter_action`: an action of the plan, under one engagement; its history is the audit
  log (target `charter_action:<id>`).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from patrimoine.core.clock import now
from patrimoine.core.db import Base, UTCDateTime


class CharterSettings(Base):
    __tablename__ = "charter_settings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(300), default="Charte de la donnée")
    preamble: Mapped[str] = mapped_column(Text, default="")
    approver_roles: Mapped[list[str]] = mapped_column(JSON, default=list)
    publish_deviations: Mapped[bool] = mapped_column(Boolean, default=False,
                                                     server_default=false())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)


class CharterEngagement(Base):
    __tablename__ = "charter_engagement"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(60), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    text: Mapped[str] = mapped_column(Text, default="")
    rank: Mapped[int] = mapped_column(Integer, default=0)

    rules: Mapped[list[CharterRuleSetting]] = relationship(
        back_populates="engagement", cascade="all, delete-orphan",
        order_by="CharterRuleSetting.id")


class CharterRuleSetting(Base):
    __tablename__ = "charter_rule_setting"
    __table_args__ = (UniqueConstraint("engagement_id", "rule_id", "organisation_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    engagement_id: Mapped[int] = mapped_column(
        ForeignKey("charter_engagement.id", ondelete="CASCADE"), index=True)
    rule_id: Mapped[str] = mapped_column(String(100))
    # None: the charter's setting; an organisation's row overrides it for that organisation.
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), index=True)
    parameters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)

    engagement: Mapped[CharterEngagement] = relationship(back_populates="rules")


class CharterRun(Base):
    __tablename__ = "charter_run"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now, index=True)
    # The organisations evaluated (None: all of them).
    organisation_ids: Mapped[list[int] | None] = mapped_column(JSON)
    # "*" for every organisation, else their ids joined by commas: the trend's key.
    scope: Mapped[str] = mapped_column(String(300), default="*", index=True)
    actor_label: Mapped[str] = mapped_column(String(300), default="")
    seconds: Mapped[float] = mapped_column(Float, default=0.0)
    highest_failed: Mapped[bool] = mapped_column(Boolean, default=False)

    rules: Mapped[list[CharterRunRule]] = relationship(
        back_populates="run", cascade="all, delete-orphan", order_by="CharterRunRule.id")


class CharterRunRule(Base):
    __tablename__ = "charter_run_rule"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("charter_run.id", ondelete="CASCADE"),
                                        index=True)
    engagement: Mapped[str] = mapped_column(String(60))
    rule_id: Mapped[str] = mapped_column(String(100))
    severity: Mapped[str] = mapped_column(String(20))
    passed: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    deviations: Mapped[int] = mapped_column(Integer, default=0)
    not_applicable: Mapped[int] = mapped_column(Integer, default=0)
    seconds: Mapped[float] = mapped_column(Float, default=0.0)

    run: Mapped[CharterRun] = relationship(back_populates="rules")


class CharterFailure(Base):
    __tablename__ = "charter_failure"
    __table_args__ = (UniqueConstraint("engagement", "rule_id", "item"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    engagement: Mapped[str] = mapped_column(String(60))
    rule_id: Mapped[str] = mapped_column(String(100), index=True)
    item: Mapped[str] = mapped_column(String(200))
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), index=True)
    label: Mapped[str] = mapped_column(String(600))
    reason: Mapped[str] = mapped_column(Text)
    link: Mapped[str] = mapped_column(String(600))
    outcome: Mapped[str] = mapped_column(String(20))  # failed | deviation
    first_failed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_run_id: Mapped[int] = mapped_column(ForeignKey("charter_run.id", ondelete="CASCADE"),
                                             index=True)


class CharterDeviation(Base):
    __tablename__ = "charter_deviation"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rule_id: Mapped[str] = mapped_column(String(100), index=True)
    # The item ("dataset:42"); None: every item of the scope.
    item: Mapped[str | None] = mapped_column(String(200))
    item_label: Mapped[str] = mapped_column(String(600), default="")
    # The scope: an organisation; None with no item: the whole instance.
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), index=True)
    justification: Mapped[str] = mapped_column(Text)
    approver_role: Mapped[str] = mapped_column(String(40))
    approved_by: Mapped[str] = mapped_column(String(300))
    starts_on: Mapped[date] = mapped_column(Date)
    expires_on: Mapped[date] = mapped_column(Date, index=True)
    link: Mapped[str | None] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)


class CharterAction(Base):
    __tablename__ = "charter_action"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    engagement_id: Mapped[int] = mapped_column(
        ForeignKey("charter_engagement.id", ondelete="CASCADE"), index=True)
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    owner: Mapped[str] = mapped_column(String(300))
    due_on: Mapped[date] = mapped_column(Date)
    rule_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    evidence: Mapped[str] = mapped_column(Text, default="")
    started_on: Mapped[date | None] = mapped_column(Date)
    done_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)

    engagement: Mapped[CharterEngagement] = relationship()
