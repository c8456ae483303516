"""Instance scheduler: start/stop EC2, Auto Scaling groups and RDS/Aurora on tag schedules."""
