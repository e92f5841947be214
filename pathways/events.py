"""What happened to an action plan or a referral, for other apps to act on once it is saved (see cases.events)."""

from django.dispatch import Signal

from cases.events import publish

__all__ = ["action_assigned", "publish", "referral_made"]

action_assigned = Signal()  # action: Action, given a new owner agency or person
referral_made = Signal()  # referral: Referral
