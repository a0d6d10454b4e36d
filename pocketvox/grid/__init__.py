"""pocketvox.grid"""
