"""Credit repair (信用修复): notices, applications, decisions by the deciding department, re-checks."""
