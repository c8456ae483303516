"""Auto-tagger: tag new resources with their creator from CloudTrail events; required-tags sweep."""
