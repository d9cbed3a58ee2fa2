"""Rasa input channels of our own (they import Rasa; the order core does not).

Each connector authenticates its caller, caps the message size and stamps every `UserMessage` with the
identity it proved (`common.stamp_identity`); the actions trust nothing else about who is talking.
"""
