"""The domain's write API: every change to a customer, programme, visit, lead, support request or
incentive goes through these modules, which check who is acting and keep the history."""
