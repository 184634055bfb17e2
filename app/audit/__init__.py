"""The audit log: its writer, seals and verification, leaf hashes, export and its own retention."""
