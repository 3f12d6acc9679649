#!/bin/sh
# Build Mosquitto's password file from a CSV of "user,password" lines (no header):
# one line for the ingest workers (prognos-ingest) and one per device (its asset id).
#
#   ./make-passwd.sh logins.csv passwd        # then: kill -HUP the broker, or restart it
#
# The passwords are stored hashed (PBKDF2-SHA512); keep logins.csv out of version control.
set -eu
src=${1:?usage: make-passwd.sh logins.csv passwd}
dst=${2:?usage: make-passwd.sh logins.csv passwd}
: > "$dst"
while IFS=, read -r user password; do
    [ -n "$user" ] || continue
    case "$user" in \#*) continue ;; esac
    mosquitto_passwd -b "$dst" "$user" "$password"
done < "$src"
chmod 0600 "$dst"
echo "wrote $(wc -l < "$dst") logins to $dst"
