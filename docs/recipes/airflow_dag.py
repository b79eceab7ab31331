"""An Airflow DAG that writes last month's sender-score report on the 2nd of each month.

Copy it to your DAGs folder (it is not imported here). The task fails (exit 4) when the export
was not refreshed, and Airflow's retry and alerting take it from there. tests/test_schedule.py
runs its bash command.
"""

import pendulum
from airflow import DAG
from airflow.operators.bash import BashOperator

with DAG(
    dag_id="sender_score_report",
    schedule="0 6 2 * *",
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
) as dag:
    BashOperator(
        task_id="report",
        bash_command=(
            "senderscore report /srv/revops/exports/enrollments.csv --window last-month --quiet"
            " --fail-on-stale --on-bad-rows skip --output-dir /srv/revops/reports/"
        ),
    )
