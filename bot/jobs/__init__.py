"""Durable jobs: long work handed off by a skill, reported back to the conversation it came from.

The job's record in the store is the truth (state, progress, checkpoint, lease, result); an
engine only carries « run job X » to a worker: in-process by default, a procrastinate queue
on PostgreSQL in production (``almia worker``). A worker takes a job by leasing it, renews
the lease while it runs, and a job whose lease ran out is taken up again from its last
checkpoint, so a job is never lost and never runs twice at once.
"""
