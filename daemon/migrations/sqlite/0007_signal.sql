-- Radio signal strength (RSSI, dBm) as the meter or its gateway reports it.
ALTER TABLE readings ADD COLUMN rssi_dbm REAL;
