"""pocketvox.apps"""
