"""pocketvox.adapters"""
