"""What every part of Vigie stands on: the event contract, topics, settings, errors and logs.

Nothing here imports another part; producers, the stream, the warehouse and the dashboards import it.
"""
