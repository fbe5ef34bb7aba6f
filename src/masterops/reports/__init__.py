"""Reports: the daily and weekly report of each business (``build``), its renderings
(``render``), its delivery (``send``), its schedule (``schedule``, ``deliveries``) and the
streaming export of tables and views (``export``)."""
