"""
The session manager (jabberd 1.4's jsm): local users' sessions, and one
handler module per protocol area attached in the order that matters.
"""
