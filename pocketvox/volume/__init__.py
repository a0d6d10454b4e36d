"""pocketvox.volume"""
