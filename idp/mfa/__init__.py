"""Second factors for guests and members: TOTP (pyotp) with recovery codes.

``service`` holds the rules (enrol, verify, reset; no Flask), ``step`` the contract with the sign-in journey
(the step named ``"mfa"``), ``views`` the pages under ``/{tenant}/mfa`` (labels ``Code``; buttons ``Verify``).
"""
