"""Paging: turning PageRequested into SMS and voice calls, exactly once per notification id."""
